/** The `.wasm` binaries of `@tensorflow/tfjs-backend-wasm`, embedded by esbuild as `data:` URLs (see live-bundle.ts). */
declare module '*.wasm' {
  const url: string;
  export default url;
}
