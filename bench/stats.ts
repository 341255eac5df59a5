// The few statistics the benches report: medians and quantiles of samples.
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The sample at quantile q (nearest rank, no interpolation). */
export const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

export const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;
