// CPF and CNPJ with their check digits (Receita Federal's modulo-11 rule). Members of a
// consortium, customers of a charge and property owners are identified by one of them.

const digitsOf = (value: string) => value.replace(/[.\-/\s]/g, '');

function checkDigit(digits: number[], weights: number[]): number {
  const sum = digits.reduce((acc, d, i) => acc + d * weights[i]!, 0);
  const rest = sum % 11;
  return rest < 2 ? 0 : 11 - rest;
}

export function isValidCpf(value: string): boolean {
  const s = digitsOf(value);
  if (!/^\d{11}$/.test(s) || /^(\d)\1{10}$/.test(s)) return false;
  const d = [...s].map(Number);
  const first = checkDigit(d.slice(0, 9), [10, 9, 8, 7, 6, 5, 4, 3, 2]);
  const second = checkDigit(d.slice(0, 10), [11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
  return d[9] === first && d[10] === second;
}

export function isValidCnpj(value: string): boolean {
  const s = digitsOf(value);
  if (!/^\d{14}$/.test(s) || /^(\d)\1{13}$/.test(s)) return false;
  const d = [...s].map(Number);
  const first = checkDigit(d.slice(0, 12), [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
  const second = checkDigit(d.slice(0, 13), [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
  return d[12] === first && d[13] === second;
}

export type TaxIdKind = 'cpf' | 'cnpj';

// The digits only, when valid; null otherwise.
export function normalizeTaxId(value: string): { kind: TaxIdKind; digits: string } | null {
  const s = digitsOf(value);
  if (s.length === 11 && isValidCpf(s)) return { kind: 'cpf', digits: s };
  if (s.length === 14 && isValidCnpj(s)) return { kind: 'cnpj', digits: s };
  return null;
}

export function formatTaxId(digits: string): string {
  if (digits.length === 11) return `${digits.slice(0, 3)}.${digits.slice(3, 6)}.${digits.slice(6, 9)}-${digits.slice(9)}`;
  if (digits.length === 14) return `${digits.slice(0, 2)}.${digits.slice(2, 5)}.${digits.slice(5, 8)}/${digits.slice(8, 12)}-${digits.slice(12)}`;
  return digits;
}
