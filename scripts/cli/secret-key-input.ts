/**
 * The Refersion secret key for `npm run -s shop -- configure SHOP --secret-key-stdin`, read from
 * standard input: piped in (one line; its trailing newline is not part of the key), or typed at
 * a prompt that does not show it. Never from the command line, which every user of the machine
 * can read in the process list and which the shell keeps in its history.
 */
import type { ReadStream } from "node:tty";

export class SecretKeyInputError extends Error {
  override name = "SecretKeyInputError";
}

const END_OF_LINE = new Set(["\r", "\n", "\u0004"]);
const INTERRUPT = "\u0003";
const ERASE = new Set(["\u007f", "\b"]);

/** The secret key, or null when the operator cancelled at the prompt (Ctrl-C). */
export async function readSecretKeyFromStdin(
  input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
  prompt: NodeJS.WritableStream = process.stderr,
): Promise<string | null> {
  if (input.isTTY) {
    const typed = await readWithoutEcho(input as ReadStream, prompt);
    if (typed !== null && typed.trim() === "") throw new SecretKeyInputError("No secret key was typed");
    return typed;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  const text = Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
  if (text.trim() === "") throw new SecretKeyInputError("Standard input held no secret key (--secret-key-stdin reads it from there)");
  if (/[\r\n]/.test(text)) throw new SecretKeyInputError("--secret-key-stdin reads one line, and standard input held several");
  return text;
}

function readWithoutEcho(terminal: ReadStream, prompt: NodeJS.WritableStream): Promise<string | null> {
  if (typeof terminal.setRawMode !== "function") {
    throw new SecretKeyInputError("This terminal cannot hide what is typed: pipe the secret key in (--secret-key-stdin) or set REFERSION_SECRET_KEY");
  }
  prompt.write("Refersion secret key (not shown): ");
  // Raw mode: the terminal shows nothing typed, and Ctrl-C arrives as a character, not SIGINT.
  terminal.setRawMode(true);
  terminal.setEncoding("utf8");
  return new Promise((resolve) => {
    let typed = "";
    const finish = (value: string | null) => {
      terminal.off("data", onData);
      terminal.setRawMode(false);
      terminal.pause();
      prompt.write("\n");
      resolve(value);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (END_OF_LINE.has(char)) return finish(typed);
        if (char === INTERRUPT) return finish(null);
        if (ERASE.has(char)) typed = typed.slice(0, -1);
        else if (char >= " ") typed += char;
      }
    };
    terminal.on("data", onData);
    terminal.resume();
  });
}
