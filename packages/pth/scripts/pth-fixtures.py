"""Writes the @sbm/pth test fixtures: real torch.save files in both serialization formats, and their contents.

Usage (Debian's python3-torch 1.13):

    /usr/bin/python3 packages/pth/scripts/pth-fixtures.py packages/pth/test-fixtures

Writes to <out dir>:
- `mixed-zip.pth` and `mixed-legacy.pth`: the same object (nested dicts, lists, tuples, an OrderedDict, Python
  scalars and strings, a numpy scalar, tensors of every storage type, and strided views of shared storages)
  saved with `torch.save` in the zip format (the default) and in the legacy format
  (`_use_new_zipfile_serialization=False`);
- `module-legacy.pth`: the state_dict of a small `nn.Module` (conv, batch norm, linear) in the legacy format;
- `zip64.zip`: a plain zip archive (one stored, one deflated entry) with zip64 extra fields and zip64 end
  records, written by CPython's zipfile with its zip64 thresholds lowered (torch itself only writes zip64 for
  archives over 4 GiB);
- `expected.json`: for every tensor of both objects its path in the object, dtype, shape, stride, storage
  offset, storage numel and values (row-major; non-finite values as the strings "inf", "-inf", "nan"), plus the
  plain Python values of the mixed object, as PyTorch reports them; the byte offsets of the parts of
  `mixed-legacy.pth` (end of each pickle, each storage's header), found with Python's pickle module; the contents
  of the entries of `zip64.zip`.
Run `pnpm exec biome format --write packages/pth/test-fixtures/expected.json` afterwards.
"""

import collections
import json
import math
import os
import pickle
import sys
import zipfile

import numpy
import torch


def json_number(v):
  if math.isnan(v):
    return 'nan'
  if math.isinf(v):
    return 'inf' if v > 0 else '-inf'
  return v


def describe(t):
  # .tolist() of int64 keeps Python ints (exact in JSON); floats go through float64, exact for all float types.
  values = t.flatten().tolist() if t.dtype in (torch.int64, torch.bool) else t.double().flatten().tolist()
  return {
    'dtype': str(t.dtype).replace('torch.', ''),
    'shape': list(t.shape),
    'stride': list(t.stride()),
    'offset': t.storage_offset(),
    'storageNumel': t.storage().size(),
    'values': [json_number(float(v)) if isinstance(v, float) else int(v) for v in values],
  }


def tensors_in(obj, path, out):
  """Collects (path, tensor) pairs of a nested object; a path is a list of dict keys and list indices."""
  if isinstance(obj, torch.Tensor):
    out.append((path, obj))
  elif isinstance(obj, dict):
    for k, v in obj.items():
      tensors_in(v, path + [k], out)
  elif isinstance(obj, (list, tuple)):
    for i, v in enumerate(obj):
      tensors_in(v, path + [i], out)
  return out


def mixed_object():
  g = torch.Generator().manual_seed(1234)
  base = torch.randn(6, 7, generator=g)
  strip = torch.randn(160, generator=g)
  inf, nan = float('inf'), float('nan')
  tensors = {
    'f32': torch.randn(2, 3, generator=g),
    'f64': torch.randn(4, generator=g, dtype=torch.float64),
    # Specials: infinities, NaN, the largest half, the smallest subnormal half, a normal value.
    'f16': torch.tensor([inf, -inf, nan, 65504.0, 2.0**-24, -3 * 2.0**-24, 0.333, -0.0], dtype=torch.float16),
    'bf16': torch.tensor([inf, -inf, nan, 3.0e38, 1.0e-40, -2.5, 0.1], dtype=torch.bfloat16),
    'i64': torch.tensor([-(2**40), -3, 0, 7, 2**24 + 1, 2**40], dtype=torch.int64),
    'i32': torch.tensor([-(2**31), -1, 0, 2**31 - 1], dtype=torch.int32),
    'i16': torch.tensor([-32768, -5, 32767], dtype=torch.int16),
    'i8': torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
    'u8': torch.tensor([0, 1, 128, 255], dtype=torch.uint8),
    'bool': torch.tensor([True, False, False, True, True]),
    'scalar': torch.tensor(3.25),
    'empty': torch.zeros(0, 3),
    # Views sharing the storage of `base` (6×7, strides (7, 1)).
    'base': base,
    'transposed': base.t(),
    'offset': base[2:, 1:4],
    'stepped': base[::2, ::3],
    'expanded': base[1].unsqueeze(0).expand(4, 7),
    # Overlapping rows: 40 rows of 30 elements, each row starting 3 elements after the previous one.
    'overlapping': torch.as_strided(strip, (40, 30), (3, 1), 5),
  }
  param = torch.nn.Parameter(torch.randn(3, generator=g))
  ordered = collections.OrderedDict([('b', torch.arange(4, dtype=torch.float32)), ('a', tensors['base'][0])])
  return {
    'tensors': tensors,
    'nested': {'list': [1, 2.5, 'text', (3, None), True, 2**40, -7], 'tuple': (param, [tensors['offset']])},
    'ordered': ordered,
    # Globals that are neither containers nor tensors (kept by the reader as records of the call).
    'numpy': numpy.float64(0.5),
  }


def small_module():
  torch.manual_seed(5)
  net = torch.nn.Sequential(
    torch.nn.Conv2d(2, 3, 3),
    torch.nn.BatchNorm2d(3),
    torch.nn.ReLU(),
    torch.nn.Flatten(),
    torch.nn.Linear(12, 2),
  )
  # A few training steps' worth of batch statistics, so that the buffers are not their initial values.
  net.train()
  with torch.no_grad():
    for _ in range(3):
      net(torch.randn(4, 2, 4, 4))
  return net.state_dict()


def legacy_layout(path):
  """Byte offsets of the parts of a legacy-format file, found with Python's pickle machinery."""
  sizes = {}

  class Recorder(pickle.Unpickler):
    def find_class(self, module, name):
      if module == 'torch._utils':
        return lambda *args: None
      return super().find_class(module, name)

    def persistent_load(self, pid):
      sizes[pid[2]] = torch.empty(0, dtype=pid[1].dtype).element_size()

  layout = {}
  with open(path, 'rb') as f:
    for part in ('magicEnd', 'protocolEnd', 'sysInfoEnd'):
      pickle.load(f)
      layout[part] = f.tell()
    Recorder(f).load()
    layout['objectEnd'] = f.tell()
    keys = pickle.load(f)
    layout['keysEnd'] = f.tell()
    layout['storages'] = []
    for key in keys:
      header = f.tell()
      numel = int.from_bytes(f.read(8), 'little')
      layout['storages'].append({'key': key, 'headerOffset': header, 'numel': numel, 'elementSize': sizes[key]})
      f.seek(numel * sizes[key], 1)
    layout['fileSize'] = f.tell()
    assert f.read() == b''
  return layout


def write_zip64(path):
  """A zip archive with zip64 extra fields and end records, by CPython's zipfile with its limits lowered."""
  entries = {'a/stored.bin': bytes(range(256)) * 2, 'a/deflated.txt': b'zip64 entry ' * 40}
  saved = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
  zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 16, 1
  try:
    with zipfile.ZipFile(path, 'w') as z:
      z.writestr(zipfile.ZipInfo('a/stored.bin'), entries['a/stored.bin'], zipfile.ZIP_STORED)
      z.writestr(zipfile.ZipInfo('a/deflated.txt'), entries['a/deflated.txt'], zipfile.ZIP_DEFLATED)
  finally:
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = saved
  with zipfile.ZipFile(path) as z:
    assert all(z.read(k) == v for k, v in entries.items())
  return {k: list(v) for k, v in entries.items()}


def main():
  out_dir = sys.argv[1]
  mixed = mixed_object()
  torch.save(mixed, os.path.join(out_dir, 'mixed-zip.pth'))
  torch.save(mixed, os.path.join(out_dir, 'mixed-legacy.pth'), _use_new_zipfile_serialization=False)
  state = small_module()
  torch.save(state, os.path.join(out_dir, 'module-legacy.pth'), _use_new_zipfile_serialization=False)

  # What torch.load reads back (not what was saved), so that the fixtures check the files themselves.
  loaded_zip = torch.load(os.path.join(out_dir, 'mixed-zip.pth'))
  loaded_legacy = torch.load(os.path.join(out_dir, 'mixed-legacy.pth'))
  loaded_state = torch.load(os.path.join(out_dir, 'module-legacy.pth'))
  for (pz, tz), (pl, tl) in zip(tensors_in(loaded_zip, [], []), tensors_in(loaded_legacy, [], [])):
    assert pz == pl and torch.equal(tz.isnan(), tl.isnan()) and torch.equal(tz.nan_to_num(), tl.nan_to_num())
  expected = {
    'mixed': [{'path': p, **describe(t)} for p, t in tensors_in(loaded_zip, [], [])],
    'mixedPlain': {'list': loaded_zip['nested']['list'], 'orderedKeys': list(loaded_zip['ordered'].keys())},
    'module': [{'path': p, **describe(t)} for p, t in tensors_in(loaded_state, [], [])],
    'legacyLayout': legacy_layout(os.path.join(out_dir, 'mixed-legacy.pth')),
    'zip64Entries': write_zip64(os.path.join(out_dir, 'zip64.zip')),
  }
  with open(os.path.join(out_dir, 'expected.json'), 'w') as f:
    json.dump(expected, f)


if __name__ == '__main__':
  main()
