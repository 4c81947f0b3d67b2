/** One finding of the bootloader config validator. */
export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  /** 1-based line in bootconf.txt, when the finding is about one line. */
  readonly line?: number;
  readonly key?: string;
  readonly code: string;
  readonly message: string;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** "line 3: BOOT_ORDER: ..." */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line !== undefined ? `line ${d.line}: ` : '';
  return `${d.severity}: ${where}${d.message}`;
}
