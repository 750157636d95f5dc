import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addMonths, assemblyCalendar, assemblyDates, isExtractionDay, lastExtractionBefore, type AssemblyDates, type GroupCalendarTerms } from '../../domain/assembly-calendar';
import { DEFAULT_GROUP_RULES } from '../../domain/consortium-rules';

// Worked out by hand with a calendar. Weekdays used: 2026-01-10 Sat; 2026-02-28 Sat; 2026-04-18
// Sat; 2026-04-21 Tue (Tiradentes); 2026-04-29 Wed; 2026-05-13 Wed; 2026-05-14 Thu; 2026-11-20 Fri
// (Consciência Negra); 2026-12-20 Sun; 2027-01-20 Wed; 2027-04-21 Wed (Tiradentes); 2027-04-22
// Thu; 2027-12-25 Sat (Natal); 2027-12-27 Mon. São Paulo is UTC−3 all year, Manaus UTC−4: the
// Loteria Federal's 19:00 in Brasília is 22:00Z, and the end of a São Paulo day is 03:00Z.
const SP: GroupCalendarTerms = { assemblyDay: 21, installmentDueDay: 10, timeZone: 'America/Sao_Paulo' };
const RULES = { extraction: DEFAULT_GROUP_RULES.extraction, biddingClosesDaysBefore: 1, biddingOpensDaysBefore: 10 } as const;

describe('assemblyDates', () => {
  const cases: [string, string, GroupCalendarTerms, Parameters<typeof assemblyDates>[2], AssemblyDates][] = [
    [
      'the assembly day on Tiradentes moves to Wednesday; the extraction is the Saturday before; bids close at its 19:00',
      '2026-04',
      SP,
      RULES,
      { month: '2026-04', assemblyDate: '2026-04-22', extractionDate: '2026-04-18', biddingOpensOn: '2026-04-12', biddingClosesAt: '2026-04-18T22:00:00.000Z', installmentDueDate: '2026-04-10' },
    ],
    [
      'the assembly day on a Saturday moves to Monday; that Saturday is the extraction; the due date moves too',
      '2026-01',
      { ...SP, assemblyDay: 10 },
      RULES,
      { month: '2026-01', assemblyDate: '2026-01-12', extractionDate: '2026-01-10', biddingOpensOn: '2026-01-02', biddingClosesAt: '2026-01-10T22:00:00.000Z', installmentDueDate: '2026-01-12' },
    ],
    [
      'no extraction on a national holiday: Wednesday 21/04/2027 is Tiradentes, so Saturday 17/04',
      '2027-04',
      { ...SP, assemblyDay: 22 },
      RULES,
      { month: '2027-04', assemblyDate: '2027-04-22', extractionDate: '2027-04-17', biddingOpensOn: '2027-04-12', biddingClosesAt: '2027-04-17T22:00:00.000Z', installmentDueDate: '2027-04-12' },
    ],
    [
      'Christmas on a Saturday: the extraction before Monday 27/12/2027 is Wednesday 22/12',
      '2027-12',
      { ...SP, assemblyDay: 27 },
      RULES,
      { month: '2027-12', assemblyDate: '2027-12-27', extractionDate: '2027-12-22', biddingOpensOn: '2027-12-17', biddingClosesAt: '2027-12-22T22:00:00.000Z', installmentDueDate: '2027-12-10' },
    ],
    [
      'bids closing 3 days before: the end of Monday 11/05 comes before Wednesday’s extraction',
      '2026-05',
      { ...SP, assemblyDay: 14 },
      { ...RULES, biddingClosesDaysBefore: 3 },
      { month: '2026-05', assemblyDate: '2026-05-14', extractionDate: '2026-05-13', biddingOpensOn: '2026-05-04', biddingClosesAt: '2026-05-12T03:00:00.000Z', installmentDueDate: '2026-05-11' },
    ],
    [
      'the last extraction of the previous month: Saturday 28/02/2026 for the March assembly; bidding opens 10 days before it',
      '2026-03',
      { ...SP, assemblyDay: 10 },
      { ...RULES, extraction: 'last_of_previous_month' },
      { month: '2026-03', assemblyDate: '2026-03-10', extractionDate: '2026-02-28', biddingOpensOn: '2026-02-18', biddingClosesAt: '2026-02-28T22:00:00.000Z', installmentDueDate: '2026-03-10' },
    ],
    [
      'the last extraction of April 2026 is Wednesday 29/04 (Thursday 30/04 has none)',
      '2026-05',
      { ...SP, assemblyDay: 5 },
      { ...RULES, extraction: 'last_of_previous_month', biddingOpensDaysBefore: 20 },
      { month: '2026-05', assemblyDate: '2026-05-05', extractionDate: '2026-04-29', biddingOpensOn: '2026-04-15', biddingClosesAt: '2026-04-29T22:00:00.000Z', installmentDueDate: '2026-05-11' },
    ],
    [
      // 10 days before the assembly would be 18/04, three weeks after bids closed.
      'an assembly on the 28th with the previous month’s extraction (Saturday 28/03): bidding opens 10 days before that',
      '2026-04',
      { ...SP, assemblyDay: 28 },
      { ...RULES, extraction: 'last_of_previous_month' },
      { month: '2026-04', assemblyDate: '2026-04-28', extractionDate: '2026-03-28', biddingOpensOn: '2026-03-18', biddingClosesAt: '2026-03-28T22:00:00.000Z', installmentDueDate: '2026-04-10' },
    ],
    [
      // Sunday 11/01 would come after Saturday's extraction.
      'a one-day window before a Monday assembly opens the day before the Saturday extraction',
      '2026-01',
      { ...SP, assemblyDay: 12 },
      { ...RULES, biddingOpensDaysBefore: 1, biddingClosesDaysBefore: 0 },
      { month: '2026-01', assemblyDate: '2026-01-12', extractionDate: '2026-01-10', biddingOpensOn: '2026-01-09', biddingClosesAt: '2026-01-10T22:00:00.000Z', installmentDueDate: '2026-01-12' },
    ],
    [
      'a tenant in Manaus: the lottery still starts at 19:00 in Brasília, 18:00 there',
      '2026-05',
      { ...SP, assemblyDay: 14, timeZone: 'America/Manaus' },
      RULES,
      { month: '2026-05', assemblyDate: '2026-05-14', extractionDate: '2026-05-13', biddingOpensOn: '2026-05-04', biddingClosesAt: '2026-05-13T22:00:00.000Z', installmentDueDate: '2026-05-11' },
    ],
    [
      'a tenant in Manaus, bids closing 3 days before: the end of its own Monday, 04:00Z',
      '2026-05',
      { ...SP, assemblyDay: 14, timeZone: 'America/Manaus' },
      { ...RULES, biddingClosesDaysBefore: 3 },
      { month: '2026-05', assemblyDate: '2026-05-14', extractionDate: '2026-05-13', biddingOpensOn: '2026-05-04', biddingClosesAt: '2026-05-12T04:00:00.000Z', installmentDueDate: '2026-05-11' },
    ],
  ];
  for (const [what, month, terms, rules, e] of cases) it(what, () => assert.deepEqual(assemblyDates(month, terms, rules), e));

  it('an installment due on a holiday moves to the next business day', () => {
    assert.equal(assemblyDates('2026-04', { ...SP, installmentDueDay: 21 }, RULES).installmentDueDate, '2026-04-22');
  });
  it('Sexta-feira Santa (03/04/2026) moves the assembly to Monday 06/04; the extraction is Saturday 04/04', () => {
    const d = assemblyDates('2026-04', { ...SP, assemblyDay: 3 }, RULES);
    assert.equal(d.assemblyDate, '2026-04-06');
    assert.equal(d.extractionDate, '2026-04-04');
  });
  it('refuses what is not a month', () => {
    assert.throws(() => assemblyDates('2026-13', SP, RULES), RangeError);
    assert.throws(() => assemblyDates('2026-4', SP, RULES), RangeError);
  });
});

describe('assemblyCalendar', () => {
  it('one assembly a month, across the turn of the year', () => {
    const cal = assemblyCalendar('2026-11', 3, { ...SP, assemblyDay: 20 }, RULES);
    // 20/11/2026 is Consciência Negra (Fri) → Mon 23/11; 20/12 is a Sunday → Mon 21/12; 20/01/2027 a Wednesday.
    assert.deepEqual(cal.map((d) => [d.month, d.assemblyDate, d.extractionDate]), [
      ['2026-11', '2026-11-23', '2026-11-21'],
      ['2026-12', '2026-12-21', '2026-12-19'],
      ['2027-01', '2027-01-20', '2027-01-16'],
    ]);
  });
});

describe('extraction days', () => {
  const cases: [string, boolean][] = [
    ['2026-04-18', true], // Saturday
    ['2026-04-29', true], // Wednesday
    ['2026-04-30', false], // Thursday
    ['2027-04-21', false], // Wednesday, Tiradentes
    ['2027-12-25', false], // Saturday, Natal
  ];
  for (const [date, e] of cases) it(`${date} → ${e}`, () => assert.equal(isExtractionDay(date), e));
  it('the last extraction strictly before a draw day is the one before it', () => assert.equal(lastExtractionBefore('2026-04-29'), '2026-04-25'));
  it('addMonths crosses years both ways', () => {
    assert.equal(addMonths('2026-12', 1), '2027-01');
    assert.equal(addMonths('2026-01', -1), '2025-12');
  });
});
