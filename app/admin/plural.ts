/**
 * Counts in words, for every page of the admin: "1 order", "3 orders", "0 orders". English has
 * two forms; Intl.PluralRules says which one a number takes, so no page writes "order(s)" or its
 * own `=== 1` test. Numbers are grouped the same way on the server and in the browser.
 */
const englishPlurals = new Intl.PluralRules("en-US");
const numbers = new Intl.NumberFormat("en-US");

/** The form of a word (or phrase) that goes with `count`: pluralForm(2, "order is", "orders are"). */
export function pluralForm(count: number, singular: string, plural = `${singular}s`): string {
  return englishPlurals.select(count) === "one" ? singular : plural;
}

/** The count and its noun: countOf(1, "order") is "1 order", countOf(1200, "attempt") "1,200 attempts". */
export function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${numbers.format(count)} ${pluralForm(count, singular, plural)}`;
}
