import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions, queueFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import { startQueueHost, type QueueHost } from "../../src/host/queue_host.js";
import type { Services } from "../../src/services.js";
import { collectPageErrors, launchChromium, screenshot, seriousAccessibilityViolations } from "../support/browser.js";
import { TestIssuer } from "../support/test_issuer.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";

/**
 * Runs that wait for an approver, in the console (AUTH_MODE=jwt, tokens of an issuer on loopback):
 * olivia's run of echo waits where she started it (the Plugins view, the chat); admin, an approver,
 * gets the Approvals view and approves one request and denies the other with the keyboard alone;
 * olivia then sees the outcome where she started it and in her timeline. The queue poller runs the
 * approved run. axe at 1280 and 375 px.
 */
const audience = "api://console-approvals";
let issuer: TestIssuer;
let services: Services;
let host: LocalHost;
let queues: QueueHost;
let browser: Browser;
let olivia: Page;
let admin: Page;
const pageErrors: string[][] = [];

beforeAll(async () => {
  issuer = await TestIssuer.start();
  services = integrationServices({
    config: integrationConfig({
      AUTH_MODE: "jwt",
      AUTH_JWT_ISSUER: issuer.issuer,
      AUTH_JWT_AUDIENCE: audience,
      PLUGIN_POLICY: '{"echo":{"approval":{"roles":["admin"]}}}',
      QUEUE_POLL_INTERVAL_MS: "50",
    }),
  });
  [host, browser] = await Promise.all([startLocalHost({ functions: httpFunctions, services, port: 0 }), launchChromium()]);
  queues = await startQueueHost({ functions: queueFunctions, services });
  olivia = await signedIn(await issuer.token("olivia-oid", audience));
  admin = await signedIn(await issuer.token("admin-oid", audience, { claims: { roles: ["admin"] } }));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await queues?.stop();
  await host?.close();
  await services?.close();
  await issuer?.stop();
});

/** A tab of its own (its own sessionStorage), signed in with `token`, on the Plugins view. */
async function signedIn(token: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  page.setDefaultTimeout(10_000);
  pageErrors.push(collectPageErrors(page));
  await page.goto(`${host.url}/api/console`);
  await page.getByLabel("Bearer token", { exact: true }).fill(token);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByLabel("Plugin", { exact: true }).locator("option", { hasText: "echo" }).waitFor({ state: "attached" });
  return page;
}

const nav = (page: Page) => page.getByRole("navigation", { name: "Views" });
const requests = () => admin.getByRole("list", { name: "Runs waiting for a decision" }).getByRole("listitem");
const focused = (page: Page) =>
  page.evaluate("(() => { const e = document.activeElement; return { id: e?.id ?? '', text: e?.textContent ?? '', tag: e?.tagName ?? '' }; })()") as Promise<{
    id: string;
    text: string;
    tag: string;
  }>;

/** Tab (or Shift+Tab) until the focused element satisfies `wanted`, as a keyboard user would. */
async function tabUntil(page: Page, wanted: (element: { id: string; text: string; tag: string }) => boolean, key = "Tab"): Promise<void> {
  for (let i = 0; i < 40 && !wanted(await focused(page)); i++) await page.keyboard.press(key);
  expect(wanted(await focused(page)), JSON.stringify(await focused(page))).toBe(true);
}

describe("runs that wait for an approver, in the console", () => {
  it("shows olivia's run awaiting approval where she started it: the Plugins view and the chat; she gets no Approvals view", async () => {
    await olivia.getByLabel("Plugin", { exact: true }).selectOption("echo");
    // The catalogue says so before she runs it; a plugin without a rule says nothing of the kind.
    await expect.poll(() => olivia.locator("#plugin-description").textContent()).toMatch(/A run waits for an approver's decision before it starts/);
    await olivia.getByLabel("Plugin", { exact: true }).selectOption("calculator");
    await expect.poll(() => olivia.locator("#plugin-description").textContent()).toMatch(/arithmetic expression/);
    expect(await olivia.locator("#plugin-description").textContent()).not.toMatch(/approver/);
    await olivia.getByLabel("Plugin", { exact: true }).selectOption("echo");
    await olivia.getByLabel("Input", { exact: true }).fill('{"text":"first"}');
    await olivia.getByRole("button", { name: "Run", exact: true }).click();
    const result = olivia.getByRole("region", { name: "Result", exact: true });
    await result.getByText("awaiting_approval").waitFor();
    expect(await result.textContent()).toMatch(/echo has not run: it waits for an approver's decision until/);
    await result.getByRole("button", { name: "Check status" }).click();
    await result.getByText("Still waiting for an approver.").waitFor();

    await nav(olivia).getByRole("link", { name: "Chat", exact: true }).click();
    await olivia.getByLabel("Message", { exact: true }).fill('/run echo {"text":"second"}');
    await olivia.getByRole("button", { name: "Send", exact: true }).click();
    const conversation = olivia.getByRole("list", { name: "Conversation" });
    await conversation.getByText("awaiting_approval").waitFor();
    expect(await conversation.textContent()).toMatch(/echo has not run/);

    expect(await nav(olivia).getByRole("link", { name: "Approvals" }).count()).toBe(0);
    for (const view of ["Plugins", "Chat"] as const) {
      await nav(olivia).getByRole("link", { name: view, exact: true }).click();
      for (const width of [1280, 375]) {
        await olivia.setViewportSize({ width, height: 800 });
        expect(await seriousAccessibilityViolations(olivia, { bestPractice: width === 1280 })).toEqual([]);
        expect(await olivia.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(width);
        await screenshot(olivia, `${view.toLowerCase()}-awaiting-${width}`);
      }
    }
    await olivia.setViewportSize({ width: 1280, height: 800 });
  });

  it("gives admin an Approvals view listing both requests, axe-clean at 1280 and 375 px", async () => {
    await nav(admin).getByRole("link", { name: "Approvals", exact: true }).click();
    await expect.poll(() => requests().count()).toBe(2);
    const texts = await requests().allTextContents();
    expect(texts[0]).toMatch(/echo.*Asked byolivia-oid.*Channelexecute.*"text": "first"/s);
    expect(texts[1]).toMatch(/Channelchat.*"text": "second"/s);
    for (const width of [1280, 375]) {
      await admin.setViewportSize({ width, height: 800 });
      expect(await seriousAccessibilityViolations(admin, { bestPractice: width === 1280 })).toEqual([]);
      expect(await admin.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(width);
      await screenshot(admin, `approvals-${width}`);
    }
    await admin.setViewportSize({ width: 1280, height: 800 });
  });

  it("approves the first and denies the second with the keyboard alone; a denial needs a reason", async () => {
    // From the navigation: Enter opens the view, whose heading takes the focus.
    await nav(admin).getByRole("link", { name: "Plugins", exact: true }).click();
    await nav(admin).getByRole("link", { name: "Plugins", exact: true }).focus();
    await tabUntil(admin, (element) => element.text === "Approvals");
    await admin.keyboard.press("Enter");
    await expect.poll(async () => (await focused(admin)).id).toBe("approvals-heading");
    await expect.poll(() => requests().count()).toBe(2);

    await tabUntil(admin, (element) => element.tag === "BUTTON" && element.text === "Approve");
    await admin.keyboard.press("Enter");
    await expect.poll(() => requests().count()).toBe(1);
    await admin
      .getByRole("status")
      .filter({ hasText: /^Approved: echo, run / })
      .waitFor({ state: "attached" });
    // The keyboard goes on at the next request.
    await expect.poll(async () => (await focused(admin)).tag).toBe("H3");

    await tabUntil(admin, (element) => element.tag === "BUTTON" && element.text === "Deny");
    await admin.keyboard.press("Enter");
    await admin.getByText("Give a reason to deny the run.").waitFor();
    expect((await focused(admin)).id).toMatch(/-reason$/);
    await admin.keyboard.type("not today");
    await tabUntil(admin, (element) => element.tag === "BUTTON" && element.text === "Deny");
    await admin.keyboard.press("Enter");
    await admin.getByText("No run waits for your decision.").waitFor();
    await expect.poll(async () => (await focused(admin)).id).toBe("approvals-heading");
  });

  it("shows olivia the outcomes where she started the runs, and her timeline has request, decision and outcome", async () => {
    await nav(olivia).getByRole("link", { name: "Plugins", exact: true }).click();
    const result = olivia.getByRole("region", { name: "Result", exact: true });
    await expect
      .poll(async () => {
        await result.getByRole("button", { name: "Check status" }).click();
        return result.textContent();
      })
      .toMatch(/Approved by admin-oid, and it ran:/);
    expect(await result.locator("pre").textContent()).toBe("first");

    await nav(olivia).getByRole("link", { name: "Chat", exact: true }).click();
    const conversation = olivia.getByRole("list", { name: "Conversation" });
    await conversation.getByRole("button", { name: "Check status" }).click();
    await conversation.getByText("Denied by admin-oid: not today.").waitFor();

    await nav(olivia).getByRole("link", { name: "Timeline", exact: true }).click();
    const timeline = olivia.getByRole("region", { name: "Timeline", exact: true });
    // Decided elsewhere: the timeline shows it once read again.
    await timeline.getByRole("button", { name: "Refresh", exact: true }).click();
    await timeline.getByText("Approval decision").first().waitFor();
    const entries = (await timeline.getByRole("listitem").allTextContents()).filter((text) => /Approval|Plugin run/.test(text));
    const at = (pattern: RegExp) => entries.findIndex((text) => pattern.test(text));
    expect(entries.filter((text) => /Approval requested\s*echo\s*awaiting_approval/.test(text))).toHaveLength(2);
    const approved = at(/Approval decision\s*echo\s*approved.*approved by admin-oid/);
    const ran = at(/Plugin run\s*echo\s*success/);
    const denied = at(/Approval decision\s*echo\s*denied.*denied by admin-oid: “not today”/);
    expect(entries).toHaveLength(5);
    // Each request before its decision, the approval before the run it allowed.
    expect(Math.min(approved, ran, denied)).toBeGreaterThan(at(/Approval requested/));
    expect(approved).toBeLessThan(ran);
    for (const width of [1280, 375]) {
      await olivia.setViewportSize({ width, height: 800 });
      expect(await seriousAccessibilityViolations(olivia, { bestPractice: width === 1280 })).toEqual([]);
      await screenshot(olivia, `timeline-approvals-${width}`);
    }
  });

  it("logged no error but the API's 4xx answers, and broke no Content-Security-Policy rule", () => {
    expect(pageErrors.flat()).toEqual([]);
  });
});
