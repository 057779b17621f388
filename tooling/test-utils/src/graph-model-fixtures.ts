// Test support: writes TensorFlow GraphDef models in the tfjs-converter's `model.json` format (the
// `graph-model` format of tfjs-converter 4.x: a GraphDef as JSON in `modelTopology`, an optional SavedModel
// `signature`, and a `weightsManifest` pointing at a binary weights shard) and loads them genuinely with
// `loadGraphModel` over HTTP from a local server, as a user loads a converted model.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';

/** Dtypes the fixtures use. */
export type FixtureDtype = 'float32' | 'int32' | 'bool';

const TF_DTYPES: Record<FixtureDtype, string> = { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL' };

/** A GraphDef node as tfjs-converter writes it. */
interface NodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
}

/** A TensorShapeProto as JSON (dimension sizes are strings in the converter's output; -1 = unknown). */
function shapeProto(shape: readonly number[] | null): unknown {
  return shape === null ? { unknownRank: true } : { dim: shape.map((d) => ({ size: String(d) })) };
}

/** `{ type: 'DT_FLOAT' }` */
function typeAttr(dtype: FixtureDtype): unknown {
  return { type: TF_DTYPES[dtype] };
}

/** A SavedModel signature entry (TensorInfo as JSON). */
export interface SignatureTensor {
  /** Tensor name in the graph, `node:0`. */
  name: string;
  dtype: FixtureDtype;
  shape: readonly number[];
}

/** Builds a GraphDef node by node; constants become weights in the binary shard. */
export class GraphBuilder {
  readonly nodes: NodeDef[] = [];
  readonly weights: { name: string; shape: number[]; dtype: FixtureDtype; values: number[] }[] = [];

  /** `Placeholder` with a dtype and a shape (`-1` for free dimensions, `null` for an unknown rank). */
  placeholder(name: string, dtype: FixtureDtype, shape: readonly number[] | null): string {
    this.nodes.push({
      name,
      op: 'Placeholder',
      attr: { dtype: typeAttr(dtype), shape: { shape: shapeProto(shape) } },
    });
    return name;
  }

  /** `Const` whose value is stored in the weights shard (as the converter stores every constant). */
  constant(
    name: string,
    values: readonly number[],
    shape: readonly number[],
    dtype: FixtureDtype = 'float32',
  ): string {
    this.nodes.push({
      name,
      op: 'Const',
      attr: {
        value: { tensor: { dtype: TF_DTYPES[dtype], tensorShape: shapeProto(shape) } },
        dtype: typeAttr(dtype),
      },
    });
    this.weights.push({ name, shape: [...shape], dtype, values: [...values] });
    return name;
  }

  /** Any op; `T` is set to `dtype` unless `attr` overrides it. */
  op(
    name: string,
    op: string,
    input: readonly string[],
    attr: Record<string, unknown> = {},
    dtype: FixtureDtype = 'float32',
  ): string {
    this.nodes.push({ name, op, input: [...input], attr: { T: typeAttr(dtype), ...attr } });
    return name;
  }

  /** `Cast` from `src` to `dst`. */
  cast(name: string, x: string, src: FixtureDtype, dst: FixtureDtype): string {
    this.nodes.push({
      name,
      op: 'Cast',
      input: [x],
      attr: { SrcT: typeAttr(src), DstT: typeAttr(dst), Truncate: { b: false } },
    });
    return name;
  }

  /** `Transpose` by a constant permutation. */
  transpose(name: string, x: string, perm: readonly number[]): string {
    const p = this.constant(`${name}/perm`, perm, [perm.length], 'int32');
    return this.op(name, 'Transpose', [x, p], { Tperm: typeAttr('int32') });
  }

  /** `Reshape` to a constant shape. */
  reshape(name: string, x: string, shape: readonly number[]): string {
    const s = this.constant(`${name}/shape`, shape, [shape.length], 'int32');
    return this.op(name, 'Reshape', [x, s], { Tshape: typeAttr('int32') });
  }
}

/** The converter's `model.json`, with the weights of `graph` in one shard `group1-shard1of1.bin`. */
export function graphModelFiles(
  graph: GraphBuilder,
  signature?: { inputs: Record<string, SignatureTensor>; outputs: Record<string, SignatureTensor> },
): { json: string; bin: Uint8Array } {
  const chunks: Uint8Array[] = graph.weights.map((w) => {
    const typed = w.dtype === 'float32' ? Float32Array.from(w.values) : Int32Array.from(w.values);
    return new Uint8Array(typed.buffer);
  });
  const bin = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    bin.set(c, offset);
    offset += c.byteLength;
  }
  const tensorInfo = (t: SignatureTensor) => ({
    name: t.name,
    dtype: TF_DTYPES[t.dtype],
    tensorShape: shapeProto(t.shape),
  });
  const mapInfos = (m: Record<string, SignatureTensor>) =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [k, tensorInfo(v)]));
  const model = {
    format: 'graph-model',
    generatedBy: '2.15.0',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: { node: graph.nodes, library: {}, versions: { producer: 1645 } },
    ...(signature
      ? { signature: { inputs: mapInfos(signature.inputs), outputs: mapInfos(signature.outputs) } }
      : {}),
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: graph.weights.map(({ name, shape, dtype }) => ({ name, shape, dtype })),
      },
    ],
  };
  return { json: JSON.stringify(model), bin };
}

/**
 * Writes `graph` as a converted model into a fresh temporary directory, serves that directory from
 * 127.0.0.1 and loads `model.json` with tfjs-converter's `loadGraphModel` by URL (tfjs' HTTP handler,
 * Node's fetch). The server and the directory are removed before returning.
 */
export async function loadGraphFixture(
  graph: GraphBuilder,
  signature?: { inputs: Record<string, SignatureTensor>; outputs: Record<string, SignatureTensor> },
): Promise<GraphModel> {
  const dir = await mkdtemp(join(tmpdir(), 'sbm-graph-model-'));
  const { json, bin } = graphModelFiles(graph, signature);
  await writeFile(join(dir, 'model.json'), json);
  await writeFile(join(dir, 'group1-shard1of1.bin'), bin);
  const server = createServer((request, response) => {
    const file = (request.url ?? '/').split('?')[0]!.replace(/^\/+/, '');
    if (file !== 'model.json' && file !== 'group1-shard1of1.bin') {
      response.writeHead(404).end();
      return;
    }
    readFile(join(dir, file)).then(
      (bytes) => {
        response
          .writeHead(200, {
            'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
          })
          .end(bytes);
      },
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await loadGraphModel(`http://127.0.0.1:${port}/model.json`);
  } finally {
    server.closeAllConnections(); // fetch keeps connections alive
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  }
}
