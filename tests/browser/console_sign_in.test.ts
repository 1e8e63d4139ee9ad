import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import { collectPageErrors, launchChromium, screenshot, seriousAccessibilityViolations } from "../support/browser.js";
import { TestIssuer } from "../support/test_issuer.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";

/**
 * The console where the API asks for a token (AUTH_MODE=jwt, tokens of an issuer on loopback that
 * publishes its keys as Entra does): the page loads without one, the first API call answers 401
 * and the console offers the token field; with a token the caller's plugins load and run. The
 * token is kept in this tab's sessionStorage only.
 */
const audience = "api://console-sign-in";
let issuer: TestIssuer;
let services: Services;
let host: LocalHost;
let browser: Browser;
let page: Page;
let pageErrors: string[];

beforeAll(async () => {
  issuer = await TestIssuer.start();
  services = integrationServices({ config: integrationConfig({ AUTH_MODE: "jwt", AUTH_JWT_ISSUER: issuer.issuer, AUTH_JWT_AUDIENCE: audience }) });
  [host, browser] = await Promise.all([startLocalHost({ functions: httpFunctions, services, port: 0 }), launchChromium()]);
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  page.setDefaultTimeout(10_000);
  pageErrors = collectPageErrors(page);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await host?.close();
  await services?.close();
  await issuer?.stop();
});

const tokenField = () => page.getByLabel("Bearer token", { exact: true });
const pluginSelect = () => page.getByLabel("Plugin", { exact: true });

describe("the console with AUTH_MODE=jwt", () => {
  it("loads without a token, and offers the token field when the API answers 401", async () => {
    const response = await page.goto(`${host.url}/api/console`);
    expect(response?.status()).toBe(200);
    await tokenField().waitFor();
    expect(await tokenField().getAttribute("type")).toBe("password");
    expect(await page.getByRole("region", { name: "Sign in" }).textContent()).toMatch(/bearer token/i);
    expect(await pluginSelect().count()).toBe(0);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await screenshot(page, "sign-in-1280");
    await page.setViewportSize({ width: 375, height: 800 });
    await screenshot(page, "sign-in-375");
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("says so when the token is refused, and keeps the field", async () => {
    await tokenField().fill(await issuer.token("alice-oid", "api://another-app"));
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByText("The API refused the token").waitFor();
    expect(await pluginSelect().count()).toBe(0);
  });

  it("with a token, loads the caller's plugins and runs them: every API call carries it", async () => {
    const token = await issuer.token("alice-oid", audience);
    await tokenField().fill(token);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await pluginSelect().locator("option", { hasText: "calculator" }).waitFor({ state: "attached" });
    expect(await tokenField().count()).toBe(0);
    await pluginSelect().selectOption("calculator");
    await page.getByLabel("Input", { exact: true }).fill("2+3*4");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await page.getByRole("region", { name: "Result", exact: true }).getByText("14", { exact: true }).waitFor();

    // In this tab's sessionStorage only: not in localStorage, not in a cookie.
    const kept = (await page.evaluate("({ session: Object.values(sessionStorage), local: Object.keys(localStorage), cookie: document.cookie })")) as {
      session: string[];
      local: string[];
      cookie: string;
    };
    expect(kept.session).toContain(token);
    expect(kept.local).toEqual([]);
    expect(kept.cookie).toBe("");

    // A reload of the tab keeps it; signing out forgets it, and the next call asks again.
    await page.reload();
    await pluginSelect().locator("option", { hasText: "calculator" }).waitFor({ state: "attached" });
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await tokenField().waitFor();
    expect(await page.evaluate("Object.values(sessionStorage)")).not.toContain(token);
  });

  it("logged no error but the 401s, and broke no Content-Security-Policy rule", () => {
    expect(pageErrors).toEqual([]);
  });
});
