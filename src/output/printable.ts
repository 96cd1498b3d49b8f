// Text from etcd or from the command line reaches a terminal: control characters in it must
// not move the cursor, colour the screen or split a line. They are shown as escapes instead.

// C0 controls, DEL and C1 controls (which include the 8-bit CSI).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function printable(text: string): string {
  return text.replace(
    CONTROL,
    (char) => NAMED[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** One line for stderr: line breaks and other controls shown as escapes. */
export function oneLine(text: string): string {
  return printable(text.trimEnd());
}
