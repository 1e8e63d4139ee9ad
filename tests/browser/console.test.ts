import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectPageErrors, launchChromium, screenshot, seriousAccessibilityViolations, writeArtefact } from "../support/browser.js";
import { startBuiltHost, type BuiltHost } from "../support/built_host.js";
import { reply, useLlmStandIn } from "../support/llm_stand_in.js";

/**
 * The web console in a real browser (Debian's Chromium through playwright-core) against `npm start`
 * as a fresh clone runs it: the built local host, nothing configured. One browser for the file;
 * the cases run in order on one page, as a person would use it.
 */
let host: BuiltHost;
const llm = useLlmStandIn();
let browser: Browser;
let context: BrowserContext;
let page: Page;
let pageErrors: string[];
const timeout = 10_000;

beforeAll(async () => {
  // The model is the stand-in on loopback (Ollama's API), so that free text streams and calls tools.
  [host, browser] = await Promise.all([startBuiltHost({ OLLAMA_BASE_URL: llm.url }), launchChromium()]);
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.setDefaultTimeout(timeout);
  pageErrors = collectPageErrors(page);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await host?.stop();
});

const consoleUrl = () => `${host.url}/api/console`;
const region = (name: string) => page.getByRole("region", { name, exact: true });
const view = (name: "Plugins" | "Chat" | "Timeline") => page.getByRole("navigation", { name: "Views" }).getByRole("link", { name, exact: true });

/** Waits for the plugins to be listed, then reads the page's own mark of its first painted view (navigation start is 0). */
async function loadAndTime(): Promise<{ firstViewMs: number; domContentLoadedMs: number; firstContentfulPaintMs: number | null; wallClockMs: number }> {
  const started = Date.now();
  if (page.url() !== consoleUrl()) await page.goto(consoleUrl());
  await page.getByLabel("Plugin", { exact: true }).locator("option", { hasText: "calculator" }).waitFor({ state: "attached" });
  const wallClockMs = Date.now() - started;
  await page.waitForFunction("performance.getEntriesByName('console:first-view').length > 0");
  const timing = (await page.evaluate(`(() => {
    const navigation = performance.getEntriesByType("navigation")[0];
    return {
      firstViewMs: performance.getEntriesByName("console:first-view")[0].startTime,
      domContentLoadedMs: navigation.domContentLoadedEventEnd,
      firstContentfulPaintMs: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
    };
  })()`)) as { firstViewMs: number; domContentLoadedMs: number; firstContentfulPaintMs: number | null };
  return { ...timing, wallClockMs };
}

describe("the console against npm start", () => {
  it("renders its first view: the plugins the caller may run (time to first view reported)", async () => {
    // Once in a browser that has just started (its first page), and once more as a reload (warm).
    const cold = await loadAndTime();
    await page.reload();
    const warm = await loadAndTime();
    const report = { firstLoad: cold, reload: warm, url: "/api/console", measuredAt: new Date().toISOString() };
    writeArtefact("timing.json", `${JSON.stringify(report, null, 2)}\n`);
    console.log(
      `console: first view rendered ${Math.round(cold.firstViewMs)} ms after navigation start on the browser's first load, ` +
        `${Math.round(warm.firstViewMs)} ms on a reload (test-artifacts/console/timing.json)`,
    );
    expect(cold.firstViewMs).toBeGreaterThan(0);

    const options = await page.getByLabel("Plugin", { exact: true }).locator("option").allTextContents();
    expect(options).toEqual(expect.arrayContaining(["calculator", "echo", "memory"]));
  });

  it("runs calculator on 2+3*4 and shows 14 in Result, with the duration", async () => {
    await page.getByLabel("Plugin", { exact: true }).selectOption("calculator");
    await expect.poll(() => page.locator("#plugin-description").textContent()).toMatch(/arithmetic expression/);
    await page.getByLabel("Input", { exact: true }).fill("2+3*4");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    const result = region("Result");
    await result.getByText("14", { exact: true }).waitFor();
    expect(await result.textContent()).toMatch(/calculator ran in \d+ ms/);
  });

  it("fills Input from the form generated from the plugin's schema, and shows an error's code and message", async () => {
    const expression = page.getByLabel(/^expression/);
    expect(await expression.getAttribute("aria-required")).toBe("true");
    await expression.fill("1/0");
    expect(JSON.parse(await page.getByLabel("Input", { exact: true }).inputValue())).toEqual({ expression: "1/0" });
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await region("Result").getByText("invalid_input").waitFor();
    expect(await region("Result").textContent()).toMatch(/Division by zero/);

    // An enum becomes a select; a typed object in Input shows in the form.
    await page.getByLabel("Plugin", { exact: true }).selectOption("memory");
    expect(
      await page
        .getByLabel(/^action/)
        .locator("option")
        .allTextContents(),
    ).toEqual(expect.arrayContaining(["list", "note", "clear"]));
    await page.getByLabel("Input", { exact: true }).fill('{"action":"note","text":"from the console"}');
    expect(await page.getByLabel(/^action/).inputValue()).toBe("note");
    expect(await page.getByLabel(/^text/).inputValue()).toBe("from the console");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await region("Result").getByText("success").waitFor();

    await page.getByLabel("Plugin", { exact: true }).selectOption("calculator");
    await page.getByLabel("Input", { exact: true }).fill("2+3*4");
    await page.getByRole("button", { name: "Run", exact: true }).click();
    await region("Result").getByText("14", { exact: true }).waitFor();
  });

  it("sends /run echo hello in Message and shows the streamed reply hello", async () => {
    await view("Chat").click();
    await page.getByLabel("Message", { exact: true }).fill("/run echo hello");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    const conversation = page.getByRole("list", { name: "Conversation" });
    await conversation.getByText("hello", { exact: true }).waitFor();
    expect(await conversation.textContent()).toMatch(/Plugin echo/i);
  });

  it("streams a model's answer token by token, with its tool call inline as it happens", async () => {
    const words = ["17", " × ", "23", " = ", "391"];
    llm.script(
      reply.toolCall("calculator", { expression: "17*23" }),
      reply.compute((request) => reply.text(`17 × 23 = ${request.toolResults[0]?.content}`, { chunks: words, chunkDelayMs: 150 })),
    );
    await page.getByLabel("Message", { exact: true }).fill("What is 17*23?");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    const answer = page.getByRole("list", { name: "Conversation" }).getByRole("listitem").last().locator(".bubble--reply");
    await answer.getByText("Tool call").waitFor();
    const seen = new Set<string>();
    for (const deadline = Date.now() + timeout; Date.now() < deadline; ) {
      const text = (await answer.locator("p.text").allTextContents()).join("");
      seen.add(text);
      if (text === "17 × 23 = 391") break;
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect(seen).toContain("17 × 23 = 391");
    // Part of the answer was on the page before the rest had been written.
    expect([...seen].some((text) => text !== "" && text !== "17 × 23 = 391" && "17 × 23 = 391".startsWith(text))).toBe(true);
    await answer.getByText("Model (1 tool call)").waitFor();
    expect(await answer.locator(".tool").textContent()).toMatch(/Tool call\s*calculator\s*success/);
  });

  it("shows that turn in Timeline, oldest first, a run opening to its input and result", async () => {
    await view("Timeline").click();
    const timeline = region("Timeline");
    await timeline.getByText("/run echo hello", { exact: true }).waitFor();
    const entries = timeline.getByRole("listitem");
    const texts = await entries.allTextContents();
    const turn = texts.findIndex((text) => text.includes("/run echo hello"));
    expect(texts[turn]).toMatch(/Message/);
    expect(texts[turn + 1]).toMatch(/Plugin run\s*echo\s*success\s*\d+ ms/);
    expect(texts[turn + 2]).toMatch(/Reply\s*echo\s*success.*hello/s);
    // The plugin runs of the Plugins view came first, in the same session.
    expect(texts.slice(0, turn).some((text) => /Plugin run\s*calculator/.test(text))).toBe(true);

    const run = entries.nth(turn + 1);
    await run.getByText("Input and result").click();
    await run.getByText("hello", { exact: true }).first().waitFor();
    expect(await run.locator("details").getAttribute("open")).not.toBeNull();
  });

  const views = ["Plugins", "Chat", "Timeline"] as const;
  it.each([1280, 375].flatMap((width) => views.map((name) => [name, width] as const)))(
    "%s at %i px: no serious or critical accessibility violation, nothing wider than the window, a screenshot",
    async (name, width) => {
      await page.setViewportSize({ width, height: 800 });
      await view(name).click();
      await page.getByRole("heading", { name, exact: true, level: 2 }).waitFor();
      if (name === "Timeline") await region("Timeline").getByRole("listitem").first().waitFor();
      expect(await seriousAccessibilityViolations(page, { bestPractice: width === 1280 })).toEqual([]);
      // No sideways scrolling, at 375 px too.
      expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(width);
      await screenshot(page, `${name.toLowerCase()}-${width}`);
    },
  );

  it("pages the timeline with Load more", async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await view("Timeline").click();
    // More runs than one page (20) holds.
    const sessionId = await page.getByLabel("Session", { exact: true }).inputValue();
    for (let i = 0; i < 25; i++) {
      const answer = await fetch(`${host.url}/api/plugins/execute`, {
        method: "POST",
        body: JSON.stringify({ plugin: "echo", data: { text: `page ${i}` }, sessionId }),
      });
      expect(answer.status).toBe(200);
    }
    await page.getByRole("button", { name: "Refresh", exact: true }).click();
    const timeline = region("Timeline");
    // Shown once the first page has been read again (before, the timeline had less than a page).
    await timeline.getByRole("button", { name: "Load more" }).waitFor();
    expect(await timeline.getByText("page 24", { exact: true }).count()).toBe(0);
    for (let pages = 1; (await timeline.getByRole("button", { name: "Load more" }).count()) > 0 && pages < 5; pages++) {
      const before = await timeline.getByRole("listitem").count();
      await timeline.getByRole("button", { name: "Load more" }).click();
      await expect.poll(() => timeline.getByRole("listitem").count()).toBeGreaterThan(before);
    }
    // A run's input and result are in its closed <details>: there, not shown.
    await timeline.getByText("page 24", { exact: true }).first().waitFor({ state: "attached" });
    const texts = await timeline.getByRole("listitem").allTextContents();
    expect(texts.findIndex((t) => t.includes("page 0"))).toBeLessThan(texts.findIndex((t) => t.includes("page 24")));
    expect(new Set(texts).size).toBe(texts.length);
  });

  it("starts a new session, and opens another one by its id", async () => {
    const first = await page.getByLabel("Session", { exact: true }).inputValue();
    await page.getByRole("button", { name: "New session", exact: true }).click();
    // The field takes the new id once the console has rendered it, a moment after the click.
    await expect.poll(() => page.getByLabel("Session", { exact: true }).inputValue()).not.toBe(first);
    await region("Timeline").getByText("Nothing recorded in this session yet.").waitFor();
    await page.getByLabel("Session", { exact: true }).fill(first);
    await page.getByRole("button", { name: "Open", exact: true }).click();
    await region("Timeline").getByText("/run echo hello", { exact: true }).waitFor();
  });

  it("works with the keyboard alone, with a visible focus", async () => {
    const keyboardPage = await context.newPage();
    keyboardPage.setDefaultTimeout(timeout);
    const errors = collectPageErrors(keyboardPage);
    await keyboardPage.goto(consoleUrl());
    await keyboardPage.getByLabel("Plugin", { exact: true }).locator("option", { hasText: "calculator" }).waitFor({ state: "attached" });
    const focusedId = () => keyboardPage.evaluate("document.activeElement?.id ?? ''");
    const tabTo = async (id: string) => {
      for (let i = 0; i < 25 && (await focusedId()) !== id; i++) await keyboardPage.keyboard.press("Tab");
      expect(await focusedId()).toBe(id);
    };

    await tabTo("plugin-select");
    const outline = (await keyboardPage.evaluate(
      "(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()",
    )) as [string, number];
    expect(outline[0]).not.toBe("none");
    expect(outline[1]).toBeGreaterThanOrEqual(2);
    await keyboardPage.keyboard.type("calc");
    expect(await keyboardPage.getByLabel("Plugin", { exact: true }).inputValue()).toBe("calculator");
    await keyboardPage.keyboard.press("Tab");
    await keyboardPage.keyboard.type("2+3*4");
    await tabTo("plugin-input");
    await keyboardPage.keyboard.press("Tab");
    expect(await keyboardPage.evaluate("document.activeElement?.textContent")).toBe("Run");
    await keyboardPage.keyboard.press("Enter");
    await keyboardPage.getByRole("region", { name: "Result", exact: true }).getByText("14", { exact: true }).waitFor();

    // To the Chat view through the navigation, then Enter sends the message.
    await keyboardPage.keyboard.press("Shift+Tab");
    for (let i = 0; i < 25 && (await keyboardPage.evaluate("document.activeElement?.textContent")) !== "Chat"; i++)
      await keyboardPage.keyboard.press("Shift+Tab");
    await keyboardPage.keyboard.press("Enter");
    // The chosen view takes the focus at its heading.
    await expect.poll(focusedId).toBe("chat-heading");
    await tabTo("chat-message");
    await keyboardPage.keyboard.type("/run echo typed");
    await keyboardPage.keyboard.press("Enter");
    await keyboardPage.getByRole("list", { name: "Conversation" }).getByText("typed", { exact: true }).waitFor();
    expect(errors).toEqual([]);
    await keyboardPage.close();
  });

  it("logged no error and broke no Content-Security-Policy rule", () => {
    expect(pageErrors).toEqual([]);
  });
});
