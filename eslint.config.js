// ESLint for the pages' scripts (browser ES modules) and their unit tests (node --test).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", ".venv/", "var/", "artifacts/", "benchmarks/work/"] },
  js.configs.recommended,
  {
    files: ["api/web/static/js/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.browser },
  },
  {
    // A classic <script> beside swagger-ui's bundle (its global is declared in the file).
    files: ["api/web/static/js/apidocs-swagger.js"],
    languageOptions: { sourceType: "script" },
  },
  {
    files: ["tests/js/**/*.js", "eslint.config.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.node },
  },
];
