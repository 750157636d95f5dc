import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { amountDue, graceDate, lateChargesRuleText, type AmountDue, type AmountDueInput } from '../../domain/late-charges';

// Every figure worked out by hand. For 1% a month the day's interest is principal × days / 3000.
// 2026-03-10 is a Tuesday; 2026-03-07 a Saturday; 2026-04-21 (Tiradentes) a Tuesday; 2026-04-03
// is Sexta-feira Santa (Easter 2026-04-05); 2028 is a leap year and 2028-02-10 a Thursday.
const STD = { finePercent: 2, monthlyInterestPercent: 1 };
const due = (principalCents: number, fineCents: number, interestCents: number, daysLate: number): AmountDue => ({
  principalCents,
  fineCents,
  interestCents,
  totalCents: principalCents + fineCents + interestCents,
  daysLate,
});

describe('amountDue', () => {
  const cases: [string, AmountDueInput, AmountDue][] = [
    ['on time, on the due date', { amountCents: 10_000, dueDate: '2026-03-10', on: '2026-03-10', terms: STD }, due(10_000, 0, 0, 0)],
    ['before the due date', { amountCents: 10_000, dueDate: '2026-03-10', on: '2026-03-01', terms: STD }, due(10_000, 0, 0, 0)],
    ['the notes\' example: R$ 100,00, 5 days, 2% + 1% a.m. → 2,00 + 0,1666… → R$ 102,16', { amountCents: 10_000, dueDate: '2026-03-10', on: '2026-03-15', terms: STD }, due(10_000, 200, 16, 5)],
    ['one day late: 10000/3000 = 3,33 → 3', { amountCents: 10_000, dueDate: '2026-03-10', on: '2026-03-11', terms: STD }, due(10_000, 200, 3, 1)],
    ['due on Saturday, paid Monday: grace', { amountCents: 10_000, dueDate: '2026-03-07', on: '2026-03-09', terms: STD }, due(10_000, 0, 0, 0)],
    ['due on Saturday, Tuesday: 3 days from the original date, 30000/3000 = 10', { amountCents: 10_000, dueDate: '2026-03-07', on: '2026-03-10', terms: STD }, due(10_000, 200, 10, 3)],
    ['due on Sunday 08/03, Monday is grace', { amountCents: 10_000, dueDate: '2026-03-08', on: '2026-03-09', terms: STD }, due(10_000, 0, 0, 0)],
    ['due on Tiradentes (Tue), Wednesday is grace', { amountCents: 10_000, dueDate: '2026-04-21', on: '2026-04-22', terms: STD }, due(10_000, 0, 0, 0)],
    ['due on Tiradentes, Thursday: 2 days, 20000/3000 = 6,66 → 6', { amountCents: 10_000, dueDate: '2026-04-21', on: '2026-04-23', terms: STD }, due(10_000, 200, 6, 2)],
    ['due on Sexta-feira Santa: grace runs over the weekend to Monday 06/04', { amountCents: 10_000, dueDate: '2026-04-03', on: '2026-04-06', terms: STD }, due(10_000, 0, 0, 0)],
    ['Sexta-feira Santa, Tuesday 07/04: 4 days, 40000/3000 = 13,33 → 13', { amountCents: 10_000, dueDate: '2026-04-03', on: '2026-04-07', terms: STD }, due(10_000, 200, 13, 4)],
    ['February (28 days): R$ 1.000, 10/02 → 10/03, 100000×28/3000 = 933,33 → 933', { amountCents: 100_000, dueDate: '2026-02-10', on: '2026-03-10', terms: STD }, due(100_000, 2_000, 933, 28)],
    ['April (30 days): 10/04 → 10/05, exactly 1%', { amountCents: 100_000, dueDate: '2026-04-10', on: '2026-05-10', terms: STD }, due(100_000, 2_000, 1_000, 30)],
    ['March (31 days): 10/03 → 10/04, 100000×31/3000 = 1033,33 → 1033', { amountCents: 100_000, dueDate: '2026-03-10', on: '2026-04-10', terms: STD }, due(100_000, 2_000, 1_033, 31)],
    ['leap February 2028 (29 days): 100000×29/3000 = 966,66 → 966', { amountCents: 100_000, dueDate: '2028-02-10', on: '2028-03-10', terms: STD }, due(100_000, 2_000, 966, 29)],
    ['due on the leap day 29/02/2028 (Tue), 5 days: 16,66 → 16', { amountCents: 10_000, dueDate: '2028-02-29', on: '2028-03-05', terms: STD }, due(10_000, 200, 16, 5)],
    [
      'partial payment before the due date: 4000 off the principal, then 6000 × 2% = 120 and 6000×5/3000 = 10',
      { amountCents: 10_000, dueDate: '2026-03-10', on: '2026-03-15', terms: STD, payments: [{ on: '2026-03-05', amountCents: 4_000 }] },
      due(6_000, 120, 10, 5),
    ],
    [
      'partial payment inside the grace (Monday after a Saturday due date) counts as on time',
      { amountCents: 10_000, dueDate: '2026-03-07', on: '2026-03-12', terms: STD, payments: [{ on: '2026-03-09', amountCents: 10_000 }] },
      due(0, 0, 0, 0),
    ],
    [
      // 10 days: 33 interest; 5000 pays 33 + fine 200 + 4767 principal → 5233; 10 more days: 5233×10/3000 = 17,44 → 17.
      'partial payment after the due date: interest first, then the fine, then principal',
      { amountCents: 10_000, dueDate: '2026-03-10', on: '2026-03-30', terms: STD, payments: [{ on: '2026-03-20', amountCents: 5_000 }] },
      due(5_233, 0, 17, 20),
    ],
    [
      // 16/03 (6 days): 20 interest; 100 pays 20 + 80 of the fine (120 left). 31/03 (15 days): 50;
      // 3000 pays 50 + 120 + 2830 → 7170. 10/04 (10 days): 7170×10/3000 = 23,9 → 23.
      'two late payments, the first smaller than interest plus fine',
      {
        amountCents: 10_000,
        dueDate: '2026-03-10',
        on: '2026-04-10',
        terms: STD,
        payments: [
          { on: '2026-03-31', amountCents: 3_000 },
          { on: '2026-03-16', amountCents: 100 },
        ],
      },
      due(7_170, 0, 23, 31),
    ],
    [
      'a late payment smaller than the interest leaves the rest of the interest owed',
      { amountCents: 10_000, dueDate: '2026-03-10', on: '2026-03-16', terms: STD, payments: [{ on: '2026-03-16', amountCents: 10 }] },
      due(10_000, 200, 10, 6),
    ],
    [
      'paid in full late: nothing is owed afterwards',
      { amountCents: 10_000, dueDate: '2026-03-10', on: '2026-03-20', terms: STD, payments: [{ on: '2026-03-15', amountCents: 10_216 }] },
      due(0, 0, 0, 10),
    ],
    [
      'a payment after `on` has not happened yet',
      { amountCents: 10_000, dueDate: '2026-03-10', on: '2026-03-15', terms: STD, payments: [{ on: '2026-03-16', amountCents: 10_000 }] },
      due(10_000, 200, 16, 5),
    ],
    [
      'non-integer rates: 1,5% fine = 150; 0,99% a.m. × 15 days = 10000 × 0,0099 / 2 = 49,5 → 49',
      { amountCents: 10_000, dueDate: '2026-03-10', on: '2026-03-25', terms: { finePercent: 1.5, monthlyInterestPercent: 0.99 } },
      due(10_000, 150, 49, 15),
    ],
    [
      'non-integer rates on odd centavos: 12345 × 2,5% = 308,625 → 308; 12345 × 1,1% ÷ 30 × 7 = 31,6855 → 31',
      { amountCents: 12_345, dueDate: '2026-03-10', on: '2026-03-17', terms: { finePercent: 2.5, monthlyInterestPercent: 1.1 } },
      due(12_345, 308, 31, 7),
    ],
    ['no fine and no interest agreed: only the principal', { amountCents: 10_000, dueDate: '2026-03-10', on: '2026-06-10', terms: { finePercent: 0, monthlyInterestPercent: 0 } }, due(10_000, 0, 0, 92)],
  ];
  for (const [why, input, expected] of cases) {
    it(why, () => assert.deepEqual(amountDue(input), expected));
  }

  it('refuses fractional centavos, negative rates and impossible dates', () => {
    assert.throws(() => amountDue({ amountCents: 10.5, dueDate: '2026-03-10', on: '2026-03-11', terms: STD }), RangeError);
    assert.throws(() => amountDue({ amountCents: 100, dueDate: '2026-03-10', on: '2026-03-11', terms: { finePercent: -1, monthlyInterestPercent: 1 } }), RangeError);
    assert.throws(() => amountDue({ amountCents: 100, dueDate: '2026-02-30', on: '2026-03-11', terms: STD }), RangeError);
  });
});

describe('graceDate', () => {
  const cases: [string, string][] = [
    ['2026-03-10', '2026-03-10'],
    ['2026-03-07', '2026-03-09'],
    ['2026-12-25', '2026-12-28'], // Natal on a Friday
    ['2026-12-31', '2026-12-31'],
    ['2027-01-01', '2027-01-04'], // Friday holiday, then the weekend
  ];
  for (const [dueDate, expected] of cases) it(`${dueDate} → ${expected}`, () => assert.equal(graceDate(dueDate), expected));
});

describe('lateChargesRuleText', () => {
  it('prints the tenant\'s rates in Portuguese with the order of imputation', () => {
    const text = lateChargesRuleText({ finePercent: 2, monthlyInterestPercent: 1.5 });
    assert.match(text, /multa de 2% sobre o valor em aberto, cobrada uma única vez/);
    assert.match(text, /juros de mora simples de 1,5% ao mês, pro rata die/);
    assert.match(text, /art\. 354/);
    assert.match(text, /próximo dia útil/);
  });
});
