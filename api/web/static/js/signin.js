import { ApiError, API, token, onReady, sameOriginPath } from "./api.js";

onReady(async () => {
  const form = document.getElementById("signin-form");
  const error = document.getElementById("signin-error");
  const email = document.getElementById("email");
  email.focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const submit = document.getElementById("signin-submit");
    submit.disabled = true;
    try {
      // OAuth2 password flow: a form post, not JSON.
      const body = new URLSearchParams({
        username: email.value.trim(),
        password: document.getElementById("password").value,
      });
      const response = await fetch(`${API}/auth/token`, { method: "POST", body });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new ApiError(response.status, data.detail || "Sign-in failed");
      token.set(data.access_token);
      location.assign(sameOriginPath(new URLSearchParams(location.search).get("next")));
    } catch (e) {
      error.textContent = e.status === 401 || e.status === 400
        ? "That email and password do not match an account."
        : e.message;
      error.hidden = false;
      submit.disabled = false;
    }
  });
});
