// Shared by the browser tests: headless Chromium (/usr/bin/chromium, or $CHROMIUM) in a fresh
// profile that is removed on close, with no network beyond loopback, and `check`, which throws.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const check = (cond, msg) => { if (!cond) throw new Error("check failed: " + msg); };

/** A browser with a page of `viewport` and its profile directory; `close()` closes it and
 *  removes the profile. */
export async function launch(viewport) {
  const profile = mkdtempSync(join(tmpdir(), "jobshift-chromium-"));
  const removeProfile = () => rmSync(profile, { recursive: true, force: true });
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      headless: true,
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ],
      viewport,
    });
  } catch (e) {
    removeProfile();
    throw e;
  }
  const page = context.pages()[0] || (await context.newPage());
  const close = async () => {
    await context.close().catch(() => {});
    removeProfile();
  };
  return { context, page, profile, close };
}
