import { countOf, pluralForm } from "~/admin/plural";

describe("counts in words", () => {
  it.each([
    [0, "0 orders"],
    [1, "1 order"],
    [2, "2 orders"],
    [1200, "1,200 orders"],
  ])("%i is written %s", (count, words) => {
    expect(countOf(count, "order")).toBe(words);
  });

  it("takes an irregular plural and agrees a verb", () => {
    expect(countOf(3, "entry", "entries")).toBe("3 entries");
    expect(`${countOf(1, "order")} ${pluralForm(1, "is", "are")} queued`).toBe("1 order is queued");
    expect(`${countOf(4, "order")} ${pluralForm(4, "is", "are")} queued`).toBe("4 orders are queued");
  });
});
