// The part of the `wavedrom` package (CommonJS, no types of its own) that tools/timing-diagram.ts uses.
declare module "wavedrom" {
  /** A JsonML element as WaveDrom builds it: [tag, attributes, ...children]. */
  type JsonMl = [string, Record<string, unknown>, ...unknown[]];
  interface WaveDrom {
    /** Renders one WaveDrom source ({ signal, edge, head, foot, config }) as JsonML; `index` makes the ids unique. */
    renderAny(index: number, source: object, waveSkin: object): JsonMl;
    /** The default skin (styles and the wave bricks' shapes). */
    waveSkin: object;
    onml: { stringify(ml: JsonMl, indentation?: number): string };
  }
  const wavedrom: WaveDrom;
  export default wavedrom;
}

// onml (wavedrom's JsonML library): its strict XML parser, which the tests use to check the SVG.
declare module "onml/parse.js" {
  /** Parses XML (strict: malformed input throws) into JsonML: [tag, attributes, ...children]. */
  function parse(xml: string): [string, Record<string, string>, ...unknown[]];
  export default parse;
}
