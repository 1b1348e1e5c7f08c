/**
 * The protocol (`'http:'`, `'https:'`, ...) of an absolute URL, compared case-insensitively as
 * URL parsing lowercases it; `undefined` when `url` is not an absolute URL. Used both at synth
 * time and by the deployer Lambda.
 * @internal
 */
export function protocolOf(url: string): string | undefined {
  try {
    return new URL(url).protocol;
  } catch {
    // Not an absolute URL.
  }
  return undefined;
}
