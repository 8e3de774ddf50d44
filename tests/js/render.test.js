// playRenderedClip (api/web/static/js/media.js): the review and collection pages' wait for a clip
// rendered on demand, with the browser parts (video, captions, the one-byte probe, the clock)
// swapped for recorders, run under node --test.
import assert from "node:assert/strict";
import { test } from "node:test";

import { PREPARING, RENDER_ATTEMPTS, TOO_SLOW, playRenderedClip } from "../../api/web/static/js/media.js";

// Signed links that count their renewals; each renewal gives a new media URL.
function fakeLinks() {
  const links = {
    renewals: 0,
    current: null,
    async load() {
      links.current = { media: "/m?sig=0", captions: "/c?sig=0" };
      return links.current;
    },
    async renew() {
      links.renewals += 1;
      links.current = { media: `/m?sig=${links.renewals}`, captions: `/c?sig=${links.renewals}` };
      return links.current;
    },
  };
  return links;
}

// The video fails until `readyAfter` attempts; the probe answers with `answers` in turn.
function fakeIo({ readyAfter, answers }) {
  const seen = { attached: [], captions: [], probes: [], waits: 0 };
  const io = {
    attach: async (_video, url) => {
      seen.attached.push(url);
      if (seen.attached.length <= readyAfter) throw new Error("The video could not be played.");
    },
    captions: (_video, url) => seen.captions.push(url),
    probe: async (url) => {
      seen.probes.push(url);
      return answers.shift() || { status: 503, ok: false };
    },
    wait: async () => {
      seen.waits += 1;
    },
  };
  return { io, seen };
}

test("a clip still rendering is tried again each second until it plays, then gets its captions", async () => {
  const statuses = [];
  const { io, seen } = fakeIo({ readyAfter: 3, answers: [] });
  const shown = await playRenderedClip({}, fakeLinks(), { status: (t) => statuses.push(t), io });
  assert.equal(shown, "playing");
  assert.equal(seen.attached.length, 4);
  assert.equal(seen.waits, 3);
  assert.deepEqual(seen.captions, ["/c?sig=0"]);
  assert.deepEqual(statuses, [PREPARING, PREPARING, PREPARING, ""]);
});

test("an expired link (401) is renewed and the next try uses the new one", async () => {
  const links = fakeLinks();
  const { io, seen } = fakeIo({ readyAfter: 1, answers: [{ status: 401, ok: false }] });
  assert.equal(await playRenderedClip({}, links, { status: () => {}, io }), "playing");
  assert.equal(links.renewals, 1);
  assert.deepEqual(seen.attached, ["/m?sig=0", "/m?sig=1"]);
  assert.deepEqual(seen.captions, ["/c?sig=1"]);
});

test("any other refusal shows the server's reason and says refused, with no further tries", async () => {
  const statuses = [];
  const refusal = { status: 409, ok: false, statusText: "Conflict", json: async () => ({ detail: "No consent." }) };
  const { io, seen } = fakeIo({ readyAfter: 99, answers: [refusal] });
  const shown = await playRenderedClip({}, fakeLinks(), { status: (t) => statuses.push(t), io });
  assert.equal(shown, "refused");
  assert.deepEqual(statuses, ["No consent."]);
  assert.equal(seen.attached.length, 1);
});

test("a render that never finishes stops after its attempts and says so", async () => {
  const statuses = [];
  const { io, seen } = fakeIo({ readyAfter: Infinity, answers: [] });
  const shown = await playRenderedClip({}, fakeLinks(), { status: (t) => statuses.push(t), io });
  assert.equal(shown, "slow");
  assert.equal(seen.attached.length, RENDER_ATTEMPTS);
  assert.equal(statuses.at(-1), TOO_SLOW);
  assert.deepEqual(seen.captions, []);
});

test("a clip no longer wanted (another was picked) stops at once and says nothing more", async () => {
  const statuses = [];
  let wanted = true;
  const { io, seen } = fakeIo({ readyAfter: Infinity, answers: [] });
  io.wait = async () => {
    wanted = false;
  };
  const shown = await playRenderedClip({}, fakeLinks(), { status: (t) => statuses.push(t), stillWanted: () => wanted, io });
  assert.equal(shown, "abandoned");
  assert.equal(seen.attached.length, 1);
  assert.deepEqual(statuses, [PREPARING]);
});
