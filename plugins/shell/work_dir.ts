/** The fresh, private directory each command runs in (and uses as HOME and TMPDIR). */
import { chmod, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const prefix = "shell-plugin-";

/** A new empty directory under the system's temporary directory, readable only by this user (0700). */
export function createWorkDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * Removes the directory and whatever the command left in it. A command may have taken away its
 * own permissions on subdirectories (chmod 000), which stops a plain recursive removal; those are
 * made accessible again and the removal is retried. Resolves to false when it still fails.
 */
export async function removeWorkDir(dir: string): Promise<boolean> {
  try {
    await rm(dir, { recursive: true, force: true, maxRetries: 2 });
    return true;
  } catch {
    try {
      await makeAccessible(dir);
      await rm(dir, { recursive: true, force: true, maxRetries: 2 });
      return true;
    } catch {
      return false;
    }
  }
}

async function makeAccessible(dir: string): Promise<void> {
  await chmod(dir, 0o700);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    // Symbolic links are not followed: only the command's own directories are touched.
    if (entry.isDirectory()) await makeAccessible(join(dir, entry.name));
  }
}
