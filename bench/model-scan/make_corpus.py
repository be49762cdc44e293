#!/usr/bin/env python3
"""Writes the model-scan benchmark corpus into the folder given as argv[1]:

- big_array.pkl: a 1 GiB float32 NumPy array pickled with protocol 4 (the
  case where picklescan needs about 1 GB of memory);
- many_objects.pkl: a list of 2 million small tuples and dicts pickled with
  protocol 2 (opcode throughput, memo of a million entries);
- checkpoint.pt: a torch.save-layout zip (protocol 2 data.pkl, persistent
  storages) with 512 tensors and 256 MiB of weights;
- fixtures/: the model-scan test fixtures (benign and malicious files).
"""

import collections
import io
import os
import pickle
import shutil
import struct
import sys
import types
import zipfile

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
here = os.path.dirname(os.path.abspath(__file__))

with open(os.path.join(out, "big_array.pkl"), "wb") as f:
    pickle.dump(np.ones(1 << 28, dtype=np.float32), f, protocol=4)

with open(os.path.join(out, "many_objects.pkl"), "wb") as f:
    pickle.dump([(i, float(i), {"k": i}) if i % 2 else ("s%d" % i, None) for i in range(2_000_000)], f, protocol=2)

# torch.save layout without torch: fake torch modules give the pickler the names.
torch = types.ModuleType("torch")
tu = types.ModuleType("torch._utils")
sys.modules["torch"], sys.modules["torch._utils"] = torch, tu


class FloatStorage:
    pass


FloatStorage.__module__ = "torch"
torch.FloatStorage = FloatStorage


def _rebuild_tensor_v2(*a):
    return None


_rebuild_tensor_v2.__module__ = "torch._utils"
tu._rebuild_tensor_v2 = _rebuild_tensor_v2


class Storage:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class Tensor:
    def __init__(self, storage, n):
        self.storage, self.n = storage, n

    def __reduce_ex__(self, proto):
        return (_rebuild_tensor_v2, (self.storage, 0, (self.n,), (1,), False, collections.OrderedDict()))


class P(pickle.Pickler):
    def persistent_id(self, obj):
        return ("storage", FloatStorage, obj.key, "cpu", obj.numel) if isinstance(obj, Storage) else None


n_tensors, per = 512, (256 << 20) // 512 // 4
state = collections.OrderedDict((f"layers.{i}.weight", Tensor(Storage(str(i), per), per)) for i in range(n_tensors))
b = io.BytesIO()
P(b, protocol=2).dump(state)
rng = np.random.default_rng(0)
block = rng.standard_normal(per, dtype=np.float32).tobytes()
with zipfile.ZipFile(os.path.join(out, "checkpoint.pt"), "w") as z:
    z.writestr("checkpoint/data.pkl", b.getvalue())
    z.writestr("checkpoint/byteorder", b"little")
    for i in range(n_tensors):
        z.writestr(f"checkpoint/data/{i}", block)
    z.writestr("checkpoint/version", b"3\n")

src = os.path.join(here, "../../crates/palisade-model/tests/fixtures")
shutil.copytree(src, os.path.join(out, "fixtures"), dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("*.py", "*.json"))
