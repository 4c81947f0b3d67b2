export function checkBoundaries(root: string): string[];
