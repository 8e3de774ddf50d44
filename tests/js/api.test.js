// The pure helpers of api/web/static/js/api.js: times, sizes, error text, the sign-in redirect.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError, formatBytes, formatTime, sameOriginPath } from "../../api/web/static/js/api.js";

test("times read as m:ss.t, with hours only when there are some", () => {
  assert.equal(formatTime(0), "0:00.0");
  assert.equal(formatTime(65.25), "1:05.2");
  assert.equal(formatTime(3725.4), "1:02:05.4");
  assert.equal(formatTime(-3), "0:00.0");
  assert.equal(formatTime(NaN), "–:––");
  assert.equal(formatTime(undefined), "–:––");
});

test("sizes read as a person reads them, never 0 KB", () => {
  assert.equal(formatBytes(1), "1 byte");
  assert.equal(formatBytes(26), "26 bytes");
  assert.equal(formatBytes(999), "999 bytes");
  assert.equal(formatBytes(1000), "1.0 KB");
  assert.equal(formatBytes(412_000), "412 KB");
  assert.equal(formatBytes(1_300_000_000), "1.3 GB");
  assert.equal(formatBytes(5e15), "5000 TB");
  assert.equal(formatBytes(-1), "");
  assert.equal(formatBytes(NaN), "");
});

test("an API error says what the server said, or which fields were wrong", () => {
  assert.equal(new ApiError(404, "Lesson not found.").message, "Lesson not found.");
  const invalid = [{ loc: ["body", "title"], msg: "Field required" }, { loc: ["query", "limit"], msg: "too big" }];
  assert.equal(new ApiError(422, invalid).message, "title: Field required; limit: too big");
  assert.equal(new ApiError(500, null).message, "Request failed (500)");
});

const ORIGIN = "https://clipcoach.school.example";

test("after sign-in only a page of this site is opened", () => {
  assert.equal(sameOriginPath("/lessons/abc?t=5#c1", ORIGIN), "/lessons/abc?t=5#c1");
  assert.equal(sameOriginPath("review?clip=1", ORIGIN), "/review?clip=1");
  assert.equal(sameOriginPath(null, ORIGIN), "/");
  assert.equal(sameOriginPath("", ORIGIN), "/");
});

test("no spelling of another host gets out", () => {
  for (const next of [
    "https://evil.example/",
    "//evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "http://clipcoach.school.example/", // same host, other scheme: another origin
  ]) {
    assert.equal(sameOriginPath(next, ORIGIN), "/", next);
  }
  // Parsed as the browser parses them, these stay on this site: a path here, not a host.
  assert.equal(sameOriginPath("/%5Cevil.example", ORIGIN), "/%5Cevil.example");
  assert.equal(sameOriginPath("https:evil.example", ORIGIN), "/evil.example");
});
