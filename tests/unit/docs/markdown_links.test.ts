import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { anchorsOf, brokenLinks, githubSlug, lineCount, markdownFiles } from "./markdown_links.js";

const root = join(import.meta.dirname, "..", "..", "..");

describe("the repository's Markdown", () => {
  const files = markdownFiles(root);

  it("is found: the README, the docs, infra and bench pages, nothing from node_modules", () => {
    for (const page of ["README.md", "docs/api.md", "docs/configuration.md", "infra/README.md", "bench/README.md"]) expect(files).toContain(page);
    expect(files.filter((file) => file.includes("node_modules"))).toEqual([]);
  });

  it("has no relative link, or #anchor into a Markdown file, that does not resolve", () => {
    const broken = files.flatMap((file) => brokenLinks(root, file));
    expect(broken, "fix these links").toEqual([]);
  });

  it("keeps the README a front door of at most 250 lines (the reference is in docs/)", () => {
    expect(lineCount(readFileSync(join(root, "README.md"), "utf8"))).toBeLessThanOrEqual(250);
  });
});

describe("the link checker", () => {
  const scratch = mkdtempSync(join(tmpdir(), "markdown-links-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** A small repository of its own: each page written under scratch/<name>/. */
  function repository(name: string, pages: Record<string, string>): string {
    const folder = join(scratch, name);
    for (const [path, text] of Object.entries(pages)) {
      mkdirSync(dirname(join(folder, path)), { recursive: true });
      writeFileSync(join(folder, path), text);
    }
    return folder;
  }

  it("names GitHub's anchors: lower case, punctuation and code marks dropped, repeats numbered", () => {
    expect(githubSlug("1. The API's app registration (once)")).toBe("1-the-apis-app-registration-once");
    expect(githubSlug("The deployer (`principalId`)")).toBe("the-deployer-principalid");
    expect(githubSlug("Cold start: what the bundle loads")).toBe("cold-start-what-the-bundle-loads");
    expect(githubSlug("The `openai` SDK")).toBe("the-openai-sdk");
    expect(githubSlug("Where [the docs](docs/api.md) live")).toBe("where-the-docs-live");
    expect(githubSlug("RATE_LIMIT_PER_MINUTE & friends")).toBe("rate_limit_per_minute--friends");
    expect([...anchorsOf("# Tests\n\n## Tests\n\n## Tests\n\n```sh\n# not a heading\n```\n")]).toEqual(["tests", "tests-1", "tests-2"]);
  });

  it("passes links that resolve: files, folders, anchors in the same page and in another", () => {
    const folder = repository("good", {
      "README.md": "# Title\n\nSee [the API](docs/api.md#routes), [the docs](docs/), [here](#title) and [its code](src/a.ts#L3).\n",
      "docs/api.md": "# API\n\n## Routes\n\nBack to [the README](../README.md#title), ![a picture](pic.png) and [a site](https://example.com/x#y).\n",
      "docs/pic.png": "",
      "src/a.ts": "",
    });
    expect(brokenLinks(folder, "README.md")).toEqual([]);
    expect(brokenLinks(folder, "docs/api.md")).toEqual([]);
  });

  it("reports a link to a missing file, a missing anchor, an empty target and a path outside the repository", () => {
    const folder = repository("bad", {
      "README.md": [
        "# Title",
        "",
        "[gone](docs/missing.md), [wrong anchor](docs/api.md#no-such-heading), [self](#nowhere), [empty]()",
        "[out](../../etc/passwd)",
        "",
        "[ref]: docs/also-missing.md",
      ].join("\n"),
      "docs/api.md": "# API\n",
    });
    expect(brokenLinks(folder, "README.md")).toEqual([
      "README.md: docs/missing.md (no such file: docs/missing.md)",
      "README.md: docs/api.md#no-such-heading (no heading with the anchor #no-such-heading)",
      "README.md: #nowhere (no heading with the anchor #nowhere)",
      "README.md: an empty link target",
      "README.md: ../../etc/passwd points outside the repository",
      "README.md: docs/also-missing.md (no such file: docs/also-missing.md)",
    ]);
  });

  it("ignores what GitHub does not render as a link: fenced code and inline code", () => {
    const folder = repository("code", {
      "README.md": "# Title\n\n```md\n[gone](missing.md)\n```\n\nText with `[gone](missing.md)` in code,\nand `a span that wraps\n[gone](missing.md)` too.\n",
    });
    expect(brokenLinks(folder, "README.md")).toEqual([]);
  });

  it("counts lines as wc -l does", () => {
    expect(lineCount("")).toBe(0);
    expect(lineCount("a\nb\n")).toBe(2);
    expect(lineCount("a\nb")).toBe(2);
  });
});
