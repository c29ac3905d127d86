/**
 * The line of a utilisation chart as an SVG path, shared by the HTML report and the portal's
 * report page: one point per bucket, broken where a bucket has no value, values above 100 % drawn
 * at the top edge.
 */
export function utilisationPath(values: readonly (number | null | undefined)[], x: (i: number) => number, y: (v: number) => number): string {
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || v === undefined) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(Math.min(1, v)).toFixed(1)}`;
    pen = true;
  });
  return d;
}
