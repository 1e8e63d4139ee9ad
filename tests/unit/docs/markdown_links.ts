import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/** Folders that hold no Markdown of the project: dependencies, build output, test output, dot-folders (.git). */
const skippedFolders = new Set(["node_modules", "dist", "test-artifacts"]);

/** Every Markdown file under root, as paths relative to it, sorted. */
export function markdownFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!skippedFolders.has(entry.name) && !entry.name.startsWith(".")) walk(join(folder, entry.name));
      } else if (entry.name.toLowerCase().endsWith(".md")) {
        found.push(relative(root, join(folder, entry.name)).split(sep).join("/"));
      }
    }
  };
  walk(root);
  return found.sort();
}

/** The lines outside fenced code blocks (``` or ~~~): what GitHub renders as Markdown. */
function linesOutsideFences(markdown: string): string[] {
  const kept: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split("\n")) {
    const opening = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence === undefined && opening) fence = opening[1]!;
    else if (fence !== undefined && new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`).test(line)) fence = undefined;
    else if (fence === undefined) kept.push(line);
  }
  return kept;
}

/** The text outside fenced code blocks without its inline code spans (which may wrap over lines, not over a blank line). */
function proseOf(markdown: string): string {
  return linesOutsideFences(markdown)
    .join("\n")
    .replace(/(`+)(?!`)(?:[^\n]|\n(?![ \t]*\n))*?[^`]\1(?!`)/g, "");
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces as hyphens (github-slugger). */
export function githubSlug(headingText: string): string {
  const text = headingText
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // a link or image: its text
    .replace(/<[^>]+>/g, ""); // inline HTML tags
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a Markdown file offers: its ATX headings' slugs (repeats numbered -1, -2, as GitHub does) and HTML ids. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const repeats = new Map<string, number>();
  for (const line of linesOutsideFences(markdown)) {
    const heading = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (heading) {
      const slug = githubSlug(heading[1] ?? "");
      let anchor = slug;
      while (anchors.has(anchor)) {
        const repeat = (repeats.get(slug) ?? 0) + 1;
        repeats.set(slug, repeat);
        anchor = `${slug}-${repeat}`;
      }
      anchors.add(anchor);
    }
    for (const html of line.matchAll(/<a\s[^>]*\b(?:id|name)="([^"]+)"/g)) anchors.add(html[1]!);
  }
  return anchors;
}

/** The destinations of the inline links, images and reference definitions in a Markdown file, outside code. */
function linkTargets(markdown: string): string[] {
  const prose = proseOf(markdown);
  const inline = [...prose.matchAll(/\]\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)/g)].map((m) => m[1]!);
  const definitions = [...prose.matchAll(/^ {0,3}\[[^\]\n]+\]:[ \t]*(<[^>\n]*>|\S+)/gm)].map((m) => m[1]!);
  return [...inline, ...definitions].map((target) => target.replace(/^<(.*)>$/, "$1"));
}

/** A target with a scheme (https:, mailto:) or protocol-relative: not a file of this repository. */
function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//");
}

/**
 * The relative links of one Markdown file (a path relative to root) that do not resolve, each with
 * the reason: a file or folder that does not exist (or lies outside root), or an #anchor that the
 * Markdown file it points into does not have.
 */
export function brokenLinks(root: string, file: string): string[] {
  const absoluteRoot = resolve(root);
  const source = join(absoluteRoot, file);
  const broken: string[] = [];
  for (const target of linkTargets(readFileSync(source, "utf8"))) {
    if (isExternal(target)) continue;
    if (target === "") {
      broken.push(`${file}: an empty link target`);
      continue;
    }
    const hashAt = target.indexOf("#");
    let path: string;
    let anchor: string;
    try {
      path = decodeURIComponent((hashAt === -1 ? target : target.slice(0, hashAt)).replace(/\?.*$/, ""));
      anchor = hashAt === -1 ? "" : decodeURIComponent(target.slice(hashAt + 1));
    } catch {
      broken.push(`${file}: ${target} is not a valid URL`);
      continue;
    }
    const resolved = path === "" ? source : path.startsWith("/") ? join(absoluteRoot, path) : resolve(dirname(source), path);
    if (resolved !== absoluteRoot && !resolved.startsWith(absoluteRoot + sep)) {
      broken.push(`${file}: ${target} points outside the repository`);
      continue;
    }
    if (!existsSync(resolved)) {
      broken.push(`${file}: ${target} (no such file: ${relative(absoluteRoot, resolved).split(sep).join("/")})`);
      continue;
    }
    if (anchor !== "" && resolved.toLowerCase().endsWith(".md") && !anchorsOf(readFileSync(resolved, "utf8")).has(anchor)) {
      broken.push(`${file}: ${target} (no heading with the anchor #${anchor})`);
    }
  }
  return broken;
}

/** Lines as `wc -l` counts them: a final newline ends the last line, it does not start another. */
export function lineCount(text: string): number {
  if (text === "") return 0;
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}
