// Minimal types for the parts of seek-bzip (pure-JS bzip2 decoder, no bundled types) that dcomp uses.
declare module 'seek-bzip' {
  interface ByteSink {
    writeByte(byte: number): void;
  }
  interface SeekBzip {
    /** Decodes a whole bzip2 buffer; with a sink, writes bytes to it and returns undefined. */
    decode(input: Uint8Array, output?: ByteSink | number, multistream?: boolean): Buffer | undefined;
  }
  const Bunzip: SeekBzip;
  export default Bunzip;
}
