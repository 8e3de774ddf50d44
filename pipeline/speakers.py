"""Teacher talk and pupil talk: which stretches of a lesson's speech are the main voice (the
teacher, nearest the microphone) and which are other voices, without a byte leaving the machine.

The voice embeddings come from Resemblyzer's pretrained speaker encoder (Apache-2.0, Copyright
Resemble AI; a GE2E model after Wan et al. 2018), whose weights ship in the `resemblyzer` package
as `pretrained.pt`. That package imports torch (gigabytes) for a three-layer LSTM, so we install it
with --no-deps, read the weights from its torch pickle with a restricted unpickler (no torch code
runs) and run the network in onnxruntime (which faster-whisper already brings) from an ONNX
graph built here from those weights; the preprocessing is numpy, written after its `audio.py`:

    16 kHz samples -> volume normalised to -30 dBFS (raised only) -> mel power spectrogram
    (40 Slaney mel bands, 25 ms Hann window, 10 ms hop; not log) -> 1.6 s windows (160 frames) over
    the speech -> LSTM 3 x 256 -> last hidden state -> linear 256 + ReLU -> L2 norm

    speech stretches (from word timings) cut into ~3 s segments -> a segment's voice is the
    embedding of the 1.6 s window in its middle (`SpeakerOptions.windows`; or the mean of its
    windows every 0.8 s, three times the CPU for no better split) -> agglomerative clustering
    on cosine distance (scikit-learn) -> the cluster with the most speech time is the teacher,
    every other cluster a pupil -> neighbouring segments of one side joined into turns (start,
    end, label, confidence)

The speech comes from the transcript's word timings (`speech_regions`), so silence and room noise
are never labelled. Confidence is the margin by which a segment is closer to its own side's voice
than to the nearest other voice, mapped to 0..1: the page shows it, because a split is evidence,
not a fact. It measures how distinct the voices are, not whether the split is right: two similar
voices (espeak-ng's synthetic ones are all alike) can be merged with high confidence. A voice
change without a pause falls inside a segment and moves the boundary by up to half a segment; a
pupil's one-word answer is judged on its own frames repeated to 1.6 s.

The encoder matches Resemblyzer with torch to 5e-7 on every window tried (tests keep
reference figures); see benchmarks/speakers_results.md for the split's accuracy and CPU time.

Pure parts (`encoder_graph`, `mel_filters`, `mel_frames`, `speech_regions`, `segments_of`,
`windows_over`, `label_segments`, `merge_turns`) are separate from the one I/O function,
`read_wav`.
"""

from __future__ import annotations

import functools
import importlib.util
import pickle
import wave
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.errors import PipelineError

Array = npt.NDArray[np.float32]

TEACHER = "teacher"
PUPIL = "pupil"

SAMPLE_RATE = 16_000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
WINDOW_FRAMES = 160  # 1.6 s: what the encoder was trained on
HIDDEN = 256
LAYERS = 3
TARGET_DBFS = -30.0
FRAME = HOP / SAMPLE_RATE
WINDOW = WINDOW_FRAMES * FRAME


class SpeakerModelUnavailableError(PipelineError):
    """The voice encoder's weights are missing or unreadable: no split rather than a wrong one."""

    code = "speakers_unavailable"


@dataclass(frozen=True)
class SpeakerOptions:
    hop: float = 0.8
    """Seconds between window starts inside a segment (CPU grows as 1 / hop; 0.4 and 1.6 scored
    within a point of 0.8 in benchmarks/speakers.py)."""
    segment: float = 3.0
    """Stretches of speech are labelled in parts of about this many seconds."""
    merge_gap: float = 0.3
    """Words closer than this form one stretch of speech."""
    windows: int | None = 1
    """Most windows embedded per segment (None: every one `hop` apart). The network is nine
    tenths of the split's CPU; one window in the middle of each ~3 s segment costs a third of
    the three that overlap there, for the accuracy measured in benchmarks/speakers.py."""
    threshold: float = 0.4
    """Cosine distance (average linkage) above which two groups of segments are different voices:
    two real speakers here are 0.45-0.6 apart, one speaker's 3 s parts mostly under 0.35."""
    batch_size: int = 128
    """Windows run through the network at once (memory: ~batch x 160 x 1024 floats per layer;
    256 took no less CPU)."""
    threads: int = 1
    """Threads for the network and the BLAS around it. One wastes no CPU on a busy worker (two
    threads spin against each other and the other stages: five times the CPU for the same
    windows, measured here with the numpy network)."""


@dataclass(frozen=True)
class Turn:
    """One stretch of one side's speech; `confidence` in 0..1 is how clearly it is that side."""

    start: float
    end: float
    label: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "label": self.label,
            "confidence": round(self.confidence, 3),
        }


@dataclass(frozen=True)
class SpeakerSplit:
    """Who spoke when. `confidence` is the speech-time-weighted mean of the turns'; `voices` is how
    many distinct voices the clustering found (1: everything is the teacher's)."""

    turns: tuple[Turn, ...] = ()
    confidence: float = 0.0
    voices: int = 0
    method: str = "resemblyzer-numpy"
    options: dict[str, Any] = field(default_factory=dict)

    def speech_time(self, label: str) -> float:
        return sum(t.end - t.start for t in self.turns if t.label == label)

    def to_dict(self) -> dict[str, Any]:
        return {
            "turns": [t.to_dict() for t in self.turns],
            "confidence": round(self.confidence, 3),
            "voices": self.voices,
            "method": self.method,
            "options": dict(self.options),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpeakerSplit:
        turns = tuple(
            Turn(float(t["start"]), float(t["end"]), str(t["label"]), float(t["confidence"]))
            for t in data.get("turns", [])
        )
        return cls(
            turns=turns,
            confidence=float(data.get("confidence", 0.0)),
            voices=int(data.get("voices", 0)),
            method=str(data.get("method", "")),
            options=dict(data.get("options", {})),
        )

    def as_tuples(self) -> list[tuple[float, float, str]]:
        """(start, end, label) per turn: the shape `pipeline.analytics` takes."""
        return [(t.start, t.end, t.label) for t in self.turns]


# the weights


def weights_path() -> Path:
    """Resemblyzer's `pretrained.pt`, found without importing the package (that needs torch)."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or spec.origin is None:
        raise SpeakerModelUnavailableError(
            "The teacher/pupil split needs the `resemblyzer` package for its voice model "
            "(pip install resemblyzer --no-deps)."
        )
    path = Path(spec.origin).with_name("pretrained.pt")
    if not path.is_file():
        raise SpeakerModelUnavailableError(f"The voice model's weights are missing at {path}.")
    return path


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: type[np.generic]
    size: int


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage: _StorageRef, offset: int, shape: Any, stride: Any, *_: Any) -> Any:
    return _TensorRef(storage, int(offset), tuple(shape), tuple(stride))


_STORAGE_TYPES: dict[str, type[np.generic]] = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
}


class _TorchUnpickler(pickle.Unpickler):
    """Reads a legacy (pre-zip) torch checkpoint: tensors become references into raw storages.
    Only the few globals such a file names are allowed, so a tampered file cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_TYPES:
            return _STORAGE_TYPES[name]
        raise pickle.UnpicklingError(f"unexpected global {module}.{name} in the voice model")

    def __init__(self, fh: Any, storages: dict[str, _StorageRef]) -> None:
        super().__init__(fh)
        self.storages = storages

    def persistent_load(self, pid: Any) -> Any:
        kind, dtype, key, _location, size, _view = pid
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {kind!r}")
        ref = _StorageRef(str(key), dtype, int(size))
        self.storages[ref.key] = ref
        return ref


_TORCH_MAGIC = 0x1950A86A20F9469CFC6C


def load_torch_state(path: Path, prefix: str = "model_state") -> dict[str, np.ndarray]:
    """The tensors of `checkpoint[prefix]` in a legacy torch file, as numpy arrays.

    The format: pickles of the magic number, protocol version and system info, then the object
    (tensors as persistent ids naming storages), then the list of storage keys, then each
    storage's bytes in that order, each after its element count as a little-endian int64.
    """
    storages: dict[str, _StorageRef] = {}
    with path.open("rb") as fh:
        if _TorchUnpickler(fh, storages).load() != _TORCH_MAGIC:
            raise SpeakerModelUnavailableError(f"{path} is not a legacy torch checkpoint.")
        _TorchUnpickler(fh, storages).load()  # protocol version
        info = _TorchUnpickler(fh, storages).load()
        if not info.get("little_endian", True):
            raise SpeakerModelUnavailableError(f"{path} was saved big-endian.")
        checkpoint = _TorchUnpickler(fh, storages).load()
        keys = _TorchUnpickler(fh, storages).load()
        state = checkpoint[prefix] if prefix else checkpoint
        wanted = {t.storage.key for t in state.values() if isinstance(t, _TensorRef)}
        raw: dict[str, np.ndarray] = {}
        for key in map(str, keys):
            ref = storages[key]
            count = int(np.frombuffer(fh.read(8), dtype="<i8")[0])
            if count != ref.size:
                raise SpeakerModelUnavailableError(f"{path}: storage {key} has the wrong size.")
            nbytes = count * np.dtype(ref.dtype).itemsize
            if key not in wanted:  # the optimiser's state: skip its bytes
                fh.seek(nbytes, 1)
                continue
            data = fh.read(nbytes)
            if len(data) != nbytes:
                raise SpeakerModelUnavailableError(f"{path} is truncated.")
            raw[key] = np.frombuffer(data, dtype=ref.dtype)
    arrays: dict[str, np.ndarray] = {}
    for name, tensor in state.items():
        if not isinstance(tensor, _TensorRef):
            continue
        storage = raw[tensor.storage.key]
        itemsize = storage.itemsize
        view = np.lib.stride_tricks.as_strided(
            storage[tensor.offset :],
            shape=tensor.shape,
            strides=tuple(s * itemsize for s in tensor.stride),
            writeable=False,
        )
        arrays[name] = np.array(view)
    return arrays


# the network


def encoder_graph(weights: dict[str, np.ndarray]) -> Any:
    """The encoder as an ONNX graph (an `onnx.ModelProto`) built from the checkpoint's tensors:
    (batch, frames, 40) mel windows in, (batch, 256) ReLU outputs out (not yet unit length).

    ONNX's LSTM operator is the same cell as torch's (one bias per gate for the input and one for
    the hidden state, sigmoid / tanh / tanh); only the gate order differs: torch stacks input,
    forget, cell, output, ONNX input, output, forget, cell.
    """
    from onnx import TensorProto, helper, numpy_helper

    h = HIDDEN
    order = np.r_[0:h, 3 * h : 4 * h, h : 2 * h, 2 * h : 3 * h]
    try:
        tensors = {
            "linear_w": weights["linear.weight"].T,
            "linear_b": weights["linear.bias"],
            "axis0": np.array([0], np.int64),
            "axis1": np.array([1], np.int64),
        }
        for k in range(LAYERS):
            tensors[f"w{k}"] = weights[f"lstm.weight_ih_l{k}"][order][None]
            tensors[f"r{k}"] = weights[f"lstm.weight_hh_l{k}"][order][None]
            tensors[f"b{k}"] = np.concatenate(
                [weights[f"lstm.bias_ih_l{k}"][order], weights[f"lstm.bias_hh_l{k}"][order]]
            )[None]
    except KeyError as exc:
        raise SpeakerModelUnavailableError(f"The voice model lacks {exc}.") from None
    node = helper.make_node
    nodes = [node("Transpose", ["mels"], ["x0"], perm=[1, 0, 2])]  # LSTM wants time first
    for k in range(LAYERS):
        nodes += [
            node("LSTM", [f"x{k}", f"w{k}", f"r{k}", f"b{k}"], [f"y{k}", f"h{k}"], hidden_size=h),
            node("Squeeze", [f"y{k}", "axis1"], [f"x{k + 1}"]),  # drop the one direction
        ]
    nodes += [
        node("Squeeze", [f"h{LAYERS - 1}", "axis0"], ["last"]),
        node("MatMul", ["last", "linear_w"], ["projected"]),
        node("Add", ["projected", "linear_b"], ["biased"]),
        node("Relu", ["biased"], ["voice"]),
    ]
    initializers = []
    for name, array in tensors.items():
        kind = np.int64 if array.dtype == np.int64 else np.float32
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array, kind), name))
    graph = helper.make_graph(
        nodes,
        "resemblyzer_encoder",
        [helper.make_tensor_value_info("mels", TensorProto.FLOAT, [None, None, N_MELS])],
        [helper.make_tensor_value_info("voice", TensorProto.FLOAT, [None, h])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # what every onnxruntime since 1.10 reads
    return model


class VoiceEncoder:
    """Resemblyzer's speaker encoder: 1.6 s of mel frames in, a unit 256-vector out.

    The network runs in onnxruntime (it comes with faster-whisper) from a graph built here from
    the weights, on `threads` threads: its LSTM kernel fuses the gate arithmetic that a numpy
    loop pays for step by step, about 1.7 times less CPU for the same embeddings (to 5e-7)."""

    def __init__(self, weights: dict[str, np.ndarray], threads: int = 1) -> None:
        import onnxruntime

        model = encoder_graph(weights)
        settings = onnxruntime.SessionOptions()
        settings.intra_op_num_threads = threads
        settings.inter_op_num_threads = 1
        settings.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            model.SerializeToString(), settings, providers=["CPUExecutionProvider"]
        )

    @classmethod
    def from_path(cls, path: Path, threads: int = 1) -> VoiceEncoder:
        try:
            weights = load_torch_state(path)
        except (OSError, pickle.UnpicklingError, EOFError, KeyError, ValueError) as exc:
            raise SpeakerModelUnavailableError(
                f"The voice model at {path} cannot be read: {exc}"
            ) from None
        return cls(weights, threads)

    def embed(self, mels: Array) -> Array:
        """Embeddings of a batch of windows, `mels` of shape (batch, frames, 40)."""
        x = np.ascontiguousarray(mels, np.float32)
        raw = np.asarray(self.session.run(None, {"mels": x})[0], np.float32)
        norm = np.linalg.norm(raw, axis=1, keepdims=True)
        unit: Array = (raw / np.maximum(norm, 1e-12)).astype(np.float32)
        return unit


def default_encoder(threads: int = 1) -> VoiceEncoder:
    """The packaged model, loaded once per process and thread count (about 0.1 s)."""
    return _packaged_encoder(threads)


@functools.cache
def _packaged_encoder(threads: int) -> VoiceEncoder:
    return VoiceEncoder.from_path(weights_path(), threads)


# features


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default): linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / (200.0 / 3)
    log = hz >= 1000.0
    mel[log] = 15.0 + np.log(hz[log] / 1000.0) / (np.log(6.4) / 27.0)
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    hz = mel * (200.0 / 3)
    log = mel >= 15.0
    hz[log] = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel[log] - 15.0))
    return hz


@functools.cache
def mel_filters(
    sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS
) -> npt.NDArray[np.float32]:
    """Triangular Slaney-normalised mel filters, (n_mels, 1 + n_fft / 2), as librosa makes them
    with `librosa.filters.mel(sr, n_fft, n_mels)` (htk=False, norm="slaney", 0 Hz to Nyquist)."""
    fft_freqs = np.linspace(0, sample_rate / 2, 1 + n_fft // 2)
    lo, hi = _hz_to_mel(np.array([0.0, sample_rate / 2]))
    mel_f = _mel_to_hz(np.linspace(lo, hi, n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights.astype(np.float32)


def volume_gain(samples: Array, target_dbfs: float = TARGET_DBFS) -> float:
    """The gain that raises (never lowers) the level to `target_dbfs`, as Resemblyzer normalises
    before embedding; summed in chunks so an hour's audio needs no float64 copy."""
    total = 0.0
    for start in range(0, len(samples), 1 << 20):
        chunk = samples[start : start + (1 << 20)].astype(np.float64)
        total += float(np.dot(chunk, chunk))
    if total <= 0.0:
        return 1.0
    change = target_dbfs - 10 * np.log10(total / len(samples))
    return float(10 ** (change / 20)) if change > 0 else 1.0


def mel_frames(
    samples: Array,
    gain: float = 1.0,
    block: int = 4096,
    *,
    only: Sequence[tuple[int, int]] | None = None,
) -> Array:
    """Mel power spectrogram of `gain` x `samples`, (frames, 40), one frame per 10 ms, frame k
    centred on sample 160 k (zero padding at the edges): librosa.feature.melspectrogram's
    defaults, as Resemblyzer uses. Made `block` frames at a time from the samples in place, so
    an hour's audio needs tens of MB beside it, not gigabytes. With `only` (frame ranges
    first..end), just those frames are made and the rest left zero: the split needs the frames
    of the windows it embeds, not the hour's."""
    count = 1 + len(samples) // HOP
    out = np.zeros((count, N_MELS), np.float32)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    filters = mel_filters().T * np.float32(gain * gain)
    half = N_FFT // 2
    wanted = [(0, count)] if only is None else _joined(only, count)
    for start, stop in wanted:
        for first in range(start, stop, block):
            n = min(block, stop - first)
            lo = first * HOP - half  # the block's samples, zero-padded where they run off an end
            piece = samples[max(0, lo) : max(0, lo + (n - 1) * HOP + N_FFT)].astype(np.float32)
            y = np.pad(piece, (max(0, -lo), (n - 1) * HOP + N_FFT - len(piece) - max(0, -lo)))
            frames = np.lib.stride_tricks.as_strided(
                y, shape=(n, N_FFT), strides=(y.strides[0] * HOP, y.strides[0]), writeable=False
            )
            spectrum = np.fft.rfft(frames * window, axis=1)
            power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
            out[first : first + n] = power @ filters
    return out


def _joined(ranges: Sequence[tuple[int, int]], count: int) -> list[tuple[int, int]]:
    """Frame ranges cut to 0..count, overlapping ones joined, in order."""
    out: list[list[int]] = []
    for a, b in sorted((max(0, a), min(count, b)) for a, b in ranges):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


# where the speech is


def speech_regions(
    spans: Iterable[tuple[float, float]], merge_gap: float = 0.3
) -> list[tuple[float, float]]:
    """Word (or segment) spans joined into stretches of speech where they are less than
    `merge_gap` apart; empty and reversed spans are dropped."""
    regions: list[list[float]] = []
    for start, end in sorted((float(s), float(e)) for s, e in spans if e > s):
        if regions and start - regions[-1][1] < merge_gap:
            regions[-1][1] = max(regions[-1][1], end)
        else:
            regions.append([start, end])
    return [(s, e) for s, e in regions]


def segments_of(regions: Sequence[tuple[float, float]], length: float) -> list[tuple[float, float]]:
    """Each region cut into equal parts of about `length` seconds (a short region is one part):
    the units that are labelled, long enough to average out one window's noise, short enough
    that a voice change without a pause moves the boundary by at most half of one."""
    out: list[tuple[float, float]] = []
    for start, end in regions:
        parts = max(1, round((end - start) / length))
        step = (end - start) / parts
        out.extend((start + k * step, start + (k + 1) * step) for k in range(parts))
    return out


def windows_over(
    segment: tuple[float, float], hop: float, most: int | None = None
) -> list[tuple[float, float]]:
    """1.6 s windows along a segment every `hop` seconds, the last ending at its end; a segment
    shorter than a window is its own window (its frames repeated to 1.6 s by `_window`, so a
    one-word answer is judged on its own voice, not on the teacher's around it). With `most`,
    at most that many of them, spread evenly (one: the middle one)."""
    start, end = segment
    if end - start <= WINDOW:
        return [(start, end)] if end > start else []
    out = []
    t = start
    while t + WINDOW < end:
        out.append((t, t + WINDOW))
        t += hop
    out.append((end - WINDOW, end))
    if most is not None and len(out) > most:
        if most == 1:
            middle = (start + end - WINDOW) / 2
            return [(middle, middle + WINDOW)]
        picks = np.linspace(0, len(out) - 1, most).round().astype(int)
        out = [out[i] for i in picks]
    return out


# the split


def cluster_voices(embeddings: Array, threshold: float) -> npt.NDArray[np.int_]:
    """Agglomerative clustering (average linkage, cosine distance) cut at `threshold`."""
    if len(embeddings) < 2:
        return np.zeros(len(embeddings), dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=threshold
    )
    return np.asarray(model.fit_predict(embeddings), dtype=int)


def label_segments(
    embeddings: Array, durations: npt.NDArray[np.float64], threshold: float
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64], int]:
    """Which segments are the teacher's, how sure each is (0..1), and how many voices there are.

    The teacher is the voice with the most speech time. A segment's margin is how much closer
    it is to the teacher's centre than to the nearest other voice's; a margin of `SURE_MARGIN`
    (about half the gap between two real speakers here) or more is full confidence. With one
    voice, confidence is how far inside the clustering threshold a segment sits.
    """
    clusters = cluster_voices(embeddings, threshold)
    totals = np.bincount(clusters, weights=durations)
    teacher = int(np.argmax(totals))
    is_teacher = clusters == teacher
    centres = np.stack(
        [_unit(np.average(embeddings[clusters == c], axis=0, weights=durations[clusters == c]))
         for c in range(len(totals))]
    )  # fmt: skip
    sims = embeddings @ centres.T
    to_teacher = sims[:, teacher]
    if len(totals) == 1:
        confidence = np.clip((to_teacher - (1 - threshold)) / threshold, 0.0, 1.0)
        return is_teacher, confidence, 1
    to_other = np.max(np.delete(sims, teacher, axis=1), axis=1)
    margin = np.where(is_teacher, to_teacher - to_other, to_other - to_teacher)
    return is_teacher, np.clip(margin / SURE_MARGIN, 0.0, 1.0), len(totals)


SURE_MARGIN = 0.2


def merge_turns(
    segments: Sequence[tuple[float, float]],
    is_teacher: Iterable[bool | np.bool_],
    confidence: Iterable[float | np.floating[Any]],
    *,
    gap: float,
) -> list[Turn]:
    """Neighbouring segments of one side less than `gap` apart as one turn (time-weighted
    confidence)."""
    turns: list[Turn] = []
    for (start, end), teacher, conf in zip(segments, is_teacher, confidence, strict=True):
        label = TEACHER if teacher else PUPIL
        last = turns[-1] if turns else None
        if last and last.label == label and start - last.end < gap:
            span = (last.end - last.start) + (end - start)
            mixed = ((last.end - last.start) * last.confidence + (end - start) * conf) / span
            turns[-1] = Turn(last.start, end, label, float(mixed))
        else:
            turns.append(Turn(start, end, label, float(conf)))
    return turns


def split_speakers(
    samples: Array,
    regions: Sequence[tuple[float, float]],
    options: SpeakerOptions = SpeakerOptions(),
    *,
    encoder: VoiceEncoder | None = None,
) -> SpeakerSplit:
    """Label every stretch of speech in `regions` (seconds) of 16 kHz mono `samples` as the
    teacher's or a pupil's; see the module docstring for how."""
    opts = {
        "hop": options.hop,
        "segment": options.segment,
        "windows": options.windows,
        "threshold": options.threshold,
        "merge_gap": options.merge_gap,
    }
    duration = len(samples) / SAMPLE_RATE
    regions = [(max(0.0, s), min(duration, e)) for s, e in regions]
    regions = [(s, e) for s, e in sorted(regions) if e - s >= FRAME]
    if not regions:
        return SpeakerSplit(options=opts)
    encoder = encoder or default_encoder(options.threads)
    segments = segments_of(regions, options.segment)
    owner: list[int] = []
    frames: list[tuple[int, int]] = []
    for k, segment in enumerate(segments):
        for start, end in windows_over(segment, options.hop, options.windows):
            owner.append(k)
            first = round(start / FRAME)
            frames.append((first, max(first + 1, round(end / FRAME))))
    from threadpoolctl import threadpool_limits  # comes with scikit-learn

    size = options.batch_size
    with threadpool_limits(limits=options.threads, user_api="blas"):
        mel = mel_frames(
            samples, volume_gain(samples), only=[(a, min(b, a + WINDOW_FRAMES)) for a, b in frames]
        )
        windows = np.concatenate(
            [
                encoder.embed(np.stack([_window(mel, a, b) for a, b in frames[i : i + size]]))
                for i in range(0, len(frames), size)
            ]
        )
    # A segment's voice is the mean of its windows' (Resemblyzer's utterance embedding).
    sums = np.zeros((len(segments), windows.shape[1]))
    np.add.at(sums, np.array(owner), windows)
    norms = np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    embeddings = (sums / norms).astype(np.float32)
    durations = np.array([e - s for s, e in segments])
    is_teacher, confidence, voices = label_segments(embeddings, durations, options.threshold)
    turns = tuple(merge_turns(segments, is_teacher, confidence, gap=options.merge_gap))
    time = float(durations.sum())
    overall = float(np.sum(durations * confidence) / time)
    return SpeakerSplit(turns=turns, confidence=overall, voices=voices, options=opts)


def _window(mel: Array, start: int, end: int) -> Array:
    """Frames start..end as one 160-frame window: cut if longer, repeated if shorter."""
    piece = mel[start : min(end, start + WINDOW_FRAMES, len(mel))]
    if len(piece) == 0:
        return np.zeros((WINDOW_FRAMES, N_MELS), np.float32)
    if len(piece) < WINDOW_FRAMES:
        piece = np.resize(piece, (WINDOW_FRAMES, N_MELS))  # np.resize repeats the rows
    return piece


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


# I/O


def read_wav(path: Path) -> Array:
    """16-bit mono 16 kHz WAV (what `pipeline.audio` writes) as float32 samples in [-1, 1], read
    a minute at a time (an hour is 230 MB as float32, with no int16 copy of it beside)."""
    with wave.open(str(path)) as fh:
        if fh.getframerate() != SAMPLE_RATE or fh.getnchannels() != 1 or fh.getsampwidth() != 2:
            raise PipelineError(f"{path.name} is not 16 kHz mono 16-bit audio.")
        samples = np.empty(fh.getnframes(), np.float32)
        at = 0
        while at < len(samples):
            chunk = np.frombuffer(fh.readframes(60 * SAMPLE_RATE), dtype="<i2")
            if chunk.size == 0:
                break
            samples[at : at + chunk.size] = chunk
            at += chunk.size
    samples = samples[:at]
    samples *= np.float32(1 / 32768)
    return samples


def split_lesson_audio(
    audio: Path,
    word_spans: Iterable[tuple[float, float]],
    options: SpeakerOptions = SpeakerOptions(),
    *,
    encoder: VoiceEncoder | None = None,
) -> SpeakerSplit:
    """The split of a lesson's 16 kHz WAV (the audio stage's output) over its words' times."""
    regions = speech_regions(word_spans, options.merge_gap)
    return split_speakers(read_wav(audio), regions, options, encoder=encoder)
