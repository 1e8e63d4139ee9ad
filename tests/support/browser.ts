import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AxeBuilder } from "@axe-core/playwright";
import { chromium, type Browser, type Page } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`, as .ci/run does): playwright-core downloads no browser. */
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Headless, and quiet: no sandbox (CI runs as root), no GPU, and nothing that reaches the network by itself. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

/** Where browser tests leave what a person should look at (screenshots, timings): gitignored. */
const artefactsDir = join(import.meta.dirname, "..", "..", "test-artifacts", "console");

export function writeArtefact(name: string, content: string | Buffer): string {
  mkdirSync(artefactsDir, { recursive: true });
  const path = join(artefactsDir, name);
  writeFileSync(path, content);
  return path;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artefactsDir, { recursive: true });
  await page.screenshot({ path: join(artefactsDir, `${name}.png`), fullPage: true });
}

/**
 * axe-core's WCAG 2.x A and AA rules (and its best practices, unless left out: they judge the
 * structure, which does not change with the window's width): the violations of impact serious or
 * critical, as short lines.
 */
export async function seriousAccessibilityViolations(page: Page, options: { bestPractice?: boolean } = {}): Promise<string[]> {
  const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", ...(options.bestPractice === false ? [] : ["best-practice"])];
  const results = await new AxeBuilder({ page }).withTags(tags).analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.impact} ${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(" ")).join(", ")})`);
}

/**
 * Errors the page logged (a Content-Security-Policy refusal among them) or threw. The browser's
 * own line for an API answer of 4xx is left out: the console shows those errors, as it should.
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text()) && /\/api\/(?!console)/.test(message.location().url))
      return;
    errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}
