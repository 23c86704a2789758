"""Exercise checkers: instant, specific feedback on the three coding questions.

Each checker builds the learner's answer, runs a few small probes (tiny random
inputs, no training beyond one batch) and then either

* prints one ``✓`` line and returns ``True`` — the answer is right;
* raises ``AssertionError`` listing every mistake it found, each named the way
  a reviewer would ("activation='relu' in the LSTM: …") with the fix;
* prints "not attempted yet" and returns ``False`` when the answer still
  raises ``NotImplementedError`` (an untouched exercise stub), so a question
  notebook runs end to end before the learner has written anything.

The mistakes they look for are the ones in the source article's code (see
``tests/article_code.py``) plus the usual ones around them.
"""

import json
import os
import re
import tempfile
import warnings

import keras
import numpy as np

from helpers.feedback import (  # noqa: F401 (NOT_ATTEMPTED, run_checker: re-exported)
    NOT_ATTEMPTED,
    Crash,
    NotAttempted,
    _key_line,
    explain_crash,
    run_checker,
    run_probe,
)
from helpers.training import compiled_metrics


# --- shared probes ---------------------------------------------------------
def _compile_problems(model):
    """Mistakes in how the model was compiled (loss, metrics)."""
    if not getattr(model, "compiled", False):
        return [
            "the model is not compiled: call model.compile(optimizer=..., "
            "loss='binary_crossentropy', metrics=[...]) before returning it."
        ]
    config = model.get_compile_config() or {}
    problems = []
    loss = json.dumps(config.get("loss")).lower()
    units = (_io_shape(model, "outputs") or (None,))[-1]
    if "categorical" in loss:
        if units == 1:  # a 2-unit softmax output is named by _output_problems instead
            problems.append(
                f"loss is {_loss_name(config)}: categorical cross-entropy expects one output "
                "per class. On a single sigmoid unit Keras renormalises the output to 1, so "
                "categorical cross-entropy is always 0 and nothing is learned (sparse "
                "categorical treats label 1 as a class that does not exist). A 0/1 label "
                "with a sigmoid output needs loss='binary_crossentropy'."
            )
    elif "binary" not in loss and "crossentropy" not in loss.replace("_", ""):
        problems.append(
            f"loss is {config.get('loss')!r}: a 0/1 purchase label with a "
            "sigmoid output needs loss='binary_crossentropy'."
        )
    elif '"from_logits": true' in loss and _last_activation(model) == "sigmoid":
        problems.append(
            "BinaryCrossentropy(from_logits=True) after a sigmoid output applies the sigmoid "
            "twice: the loss reads probabilities in [0, 1] as logits, so it can never push "
            "a prediction below 0.5 (its gradients stay weak and wrong). With "
            "Dense(1, activation='sigmoid') keep from_logits=False, the default."
        )
    # Any AUC (ROC or PR curve) ranks the rare positives; accuracy does not.
    if not {"ROC-AUC", "AUC"} & set(compiled_metrics(model).values()):
        problems.append(
            f"metrics are {config.get('metrics')!r}: with ~4% positives, accuracy is 96% "
            "for a model that always says 'no purchase'. Track keras.metrics.AUC(curve='ROC') "
            "and keras.metrics.AUC(curve='PR')."
        )
    return problems


def _loss_name(config):
    loss = config.get("loss")
    return repr(loss.get("class_name", loss) if isinstance(loss, dict) else loss)


def _last_activation(model):
    """Name of the last layer's activation ('sigmoid', 'softmax', ...), or None."""
    last = model.layers[-1] if model.layers else None
    return getattr(getattr(last, "activation", None), "__name__", None)


def _output_problems(model, predictions, lstms=()):
    """Output shape and activation. ``lstms``: the model's LSTM layers, in order, when a
    sequence output is worth explaining by return_sequences (question 4)."""
    problems = []
    last = model.layers[-1] if model.layers else None
    shape = _io_shape(model, "outputs")
    if isinstance(last, keras.layers.Dense) and _last_activation(model) == "softmax":
        if last.units == 1:
            return [
                "the last layer is Dense(1, activation='softmax'): a softmax over a single "
                "unit divides it by itself, so every sequence gets probability 1.0 and "
                "nothing can be learned. One unit for a 0/1 label: activation='sigmoid'."
            ]
        return [
            f"the last layer is Dense({last.units}, activation='softmax'), output {shape}: a "
            "two-class softmax holds the same information as one sigmoid unit, but the "
            "question (and every cell below) reads one purchase probability per sequence: "
            "Dense(1, activation='sigmoid') with loss='binary_crossentropy'."
        ]
    if shape is not None and len(shape) == 3 and lstms and lstms[-1].return_sequences:
        problems.append(
            f"the output is shaped {shape}, one prediction per time step: the last LSTM "
            "has return_sequences=True, so Dense is applied to every step. Leave "
            "return_sequences at False on the LSTM that feeds Dense (keep it True only on "
            "LSTMs that feed another LSTM)."
        )
    elif shape != (None, 1):
        problems.append(
            f"the output is shaped {shape}; expected "
            "(None, 1): one purchase probability per sequence."
        )
    if isinstance(last, keras.layers.Dense) and last.activation is not keras.activations.sigmoid:
        problems.append(
            f"the last Dense layer has activation {last.activation.__name__!r}: "
            "use activation='sigmoid' so the output is a purchase probability."
        )
        return problems
    values = np.asarray(predictions)
    if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
        problems.append(
            "outputs are not probabilities in [0, 1]: end with Dense(1, activation='sigmoid')."
        )
    return problems


def _io_shape(model, which):
    """Shape of a model's first input or output (None if the model is not built)."""
    try:
        return tuple(getattr(model, which)[0].shape)
    except (AttributeError, IndexError, ValueError):
        return None


def _save_and_reload(model, custom_objects):
    """Save to a temporary .keras file and load it back with safe_mode=True."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        with warnings.catch_warnings():  # an untrained model has no optimizer state to restore
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            return keras.models.load_model(path, custom_objects=custom_objects, safe_mode=True)


def _custom_layer_classes(model):
    """{class name: class} for every layer class not from Keras itself."""
    return {
        type(layer).__name__: type(layer)
        for layer in model._flatten_layers(include_self=False)
        if not type(layer).__module__.startswith("keras")
    }


def _predict(model, batch):
    """The model's output for one small probe batch, as NumPy.

    A direct call (eager) instead of ``model.predict``: ``predict`` traces a graph
    for every new batch shape, several seconds per check for three tiny probes. Graph
    mode is still exercised: the training step below runs the model inside ``fit``.
    """
    return keras.tree.map_structure(
        keras.ops.convert_to_numpy, model(batch, training=False)
    )


def _padding_gap(predict, sequence, time):
    """|p(post-padded) - p(pre-padded)| for one sequence of shape (length, ...).

    A model that really ignores padding gives the same prediction wherever the
    padding is; one that reads the padding does not.
    """
    length = len(sequence)
    post = np.zeros((1, time) + sequence.shape[1:], sequence.dtype)
    pre = np.zeros_like(post)
    post[0, :length] = sequence
    pre[0, time - length :] = sequence
    return float(np.max(np.abs(predict(post) - predict(pre))))


# --- 题目 4 -------------------------------------------------------------------
def check_lstm_classifier(build_fn):
    """Check a question-4 answer: ``build_fn(timesteps, n_features)`` → compiled model.

    Probes: builds for two shapes (one with timesteps != n_features; swapped
    dimensions named), no deprecated ``input_shape=``, tanh LSTM activations and
    sigmoid gates, a stack of LSTMs that passes sequences on, sigmoid (None, 1)
    output (not softmax, not one prediction per step from return_sequences=True),
    binary cross-entropy (not categorical, not from_logits after a sigmoid), AUC
    metrics, zero padding masked (Masking with mask_value=0.0, its mask reaching
    the LSTM: the prediction must not depend on where the padding is), one
    training step.
    """

    def body(mistakes):
        rng = np.random.default_rng(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model = run_probe(lambda: build_fn(12, 8), "build_fn(timesteps=12, n_features=8)")
            except Crash as crash:
                if "found ndim=2" not in str(crash.error):
                    raise
                mistakes.append(
                    f"{crash}. An LSTM received one vector per sequence instead of a "
                    "sequence: in a stack of LSTMs every LSTM but the last needs "
                    "return_sequences=True, so the next one gets (batch, time, units)."
                )
                return None
        if not isinstance(model, keras.Model):
            raise AssertionError(f"build_fn must return a keras.Model, got {type(model).__name__}.")
        if any("input_shape" in str(w.message) for w in caught):
            mistakes.append(
                "input_shape= on a layer is deprecated in Keras 3: start the model "
                "with keras.Input((timesteps, n_features))."
            )
        if _io_shape(model, "inputs") == (None, 8, 12):
            mistakes.append(
                "build_fn(12, 8) gave an input shaped (None, 8, 12): timesteps and n_features "
                "are swapped. Keras sequences are (batch, time, features): "
                "keras.Input((timesteps, n_features))."
            )
        elif _io_shape(model, "inputs") != (None, 12, 8):
            mistakes.append(
                f"build_fn(12, 8) gave an input shaped {_io_shape(model, 'inputs')}; "
                "expected (None, 12, 8) — use the timesteps and n_features arguments."
            )
        lstms = [la for la in model._flatten_layers() if isinstance(la, keras.layers.LSTM)]
        if not lstms:
            mistakes.append("no keras.layers.LSTM layer found: question 4 asks for an LSTM.")
        mistakes += _lstm_activation_problems(lstms)
        compile_problems = _compile_problems(model)
        mistakes += compile_problems
        if _io_shape(model, "inputs") != (None, 12, 8):
            return None  # the probes below feed (batch, 12, 8) sequences

        x = rng.normal(size=(16, 12, 8)).astype("float32")
        predictions = run_probe(lambda: _predict(model, x), "model.predict on (16, 12, 8)")
        output_problems = _output_problems(model, predictions, lstms)
        mistakes += output_problems
        if output_problems and _io_shape(model, "outputs") != (None, 1):
            return None  # padding and training probes assume one probability per sequence

        def predict(batch):
            return _predict(model, batch)

        maskings = [la for la in model._flatten_layers() if isinstance(la, keras.layers.Masking)]
        for masking in maskings:
            if masking.mask_value != 0:
                mistakes.append(
                    f"Masking(mask_value={masking.mask_value!r}) masks the steps whose "
                    "features all equal that value, but sequences are padded with zeros: "
                    "the padding goes through the LSTM as if it were events. Use "
                    "Masking(mask_value=0.0) (the default)."
                )
        gap = run_probe(lambda: _padding_gap(predict, x[0, :5], 12), "predict on padded sequences")
        # a masked model gives the same number (measured: exactly 0)
        if gap > 1e-6 and not any(m.mask_value != 0 for m in maskings):
            if maskings:
                mistakes.append(
                    f"zero padding changes the prediction (by {gap:.2g} when the same 5 "
                    "events are padded at the end instead of the start) although there is "
                    "a Masking layer: the mask is lost before the LSTM. Put "
                    "keras.layers.Masking(mask_value=0.0) directly after the Input and "
                    "before the LSTM, with only mask-passing layers in between."
                )
            else:
                mistakes.append(
                    f"zero padding changes the prediction (by {gap:.2g} when the same 5 events "
                    "are padded at the end instead of the start): put "
                    "keras.layers.Masking(mask_value=0.0) right after the Input."
                )
        other = run_probe(lambda: build_fn(7, 3), "build_fn(timesteps=7, n_features=3)")
        first_right = _io_shape(model, "inputs") == (None, 12, 8)  # else already named
        if first_right and _io_shape(other, "inputs") != (None, 7, 3):
            mistakes.append(
                f"build_fn(7, 3) gave an input shaped {_io_shape(other, 'inputs')}; "
                "expected (None, 7, 3)."
            )
        if any("categorical" in problem for problem in compile_problems):
            return None  # sparse categorical on one unit crashes in fit: already named
        labels = (rng.random(16) < 0.5).astype("float32")
        history = run_probe(
            lambda: model.fit(x, labels, epochs=1, batch_size=16, verbose=0),
            "one training step (model.fit)",
        )
        if not np.isfinite(history.history["loss"][-1]):
            mistakes.append("the loss is not finite after one training step.")
        return "input, LSTM, output, compile settings, masking and a training step look right."

    return run_checker("check_lstm_classifier", body)


def _lstm_activation_problems(lstms):
    problems = []
    for lstm in lstms:
        if lstm.activation is not keras.activations.tanh:
            problems.append(
                f"LSTM activation is {lstm.activation.__name__!r}: keep the default tanh. "
                "It is the function on the candidate g_t and in h_t = o_t·tanh(c_t) (the cell "
                "state c_t itself is never squashed). With relu, h_t is unbounded, and fed "
                "back through the recurrent kernel it can grow step after step and blow up on "
                "long sequences; relu also disables the fast cuDNN kernel on GPU."
            )
        if lstm.recurrent_activation.__name__ not in ("sigmoid", "hard_sigmoid"):
            problems.append(
                f"LSTM recurrent_activation is {lstm.recurrent_activation.__name__!r}: the "
                "input, forget and output gates must stay in [0, 1] (how much to let "
                "through); keep the default sigmoid."
            )
    return problems


# --- 题目 5 -------------------------------------------------------------------
def check_attention_layer(layer_cls):
    """Check a question-5 answer: an attention-pooling layer class.

    Probes: constructible with no arguments; (batch, time, features) →
    (batch, features) for time != features and time == features; the same layer
    on another length and with time=None (no weight shaped by the build-time
    length); identical steps pool to that step (weights sum to 1 over *time*);
    with random weights the output is not the plain mean (the weights depend on
    the scores); padding masked via a Keras mask, and a fully masked row gives a
    finite output that no padding value changes; no mask passed on;
    JSON-serializable config; save/load.
    """

    def body(mistakes):
        rng = np.random.default_rng(0)
        layer = run_probe(layer_cls, f"{layer_cls.__name__}()")
        x = rng.normal(size=(4, 30, 16)).astype("float32")
        crashed = False
        try:
            context = run_probe(
                lambda: keras.ops.convert_to_numpy(layer(x)),
                "calling the layer on a (4, 30, 16) input",
            )
        except Crash as crash:  # record it, then go on with time == features
            mistakes.append(explain_crash(crash))
            crashed = True
            layer = layer_cls()
            context = run_probe(
                lambda: keras.ops.convert_to_numpy(layer(x[:, :16])),
                "calling a fresh layer on a (4, 16, 16) input",
            )
        if context.shape != (4, 16):
            mistakes.append(
                f"a (4, time, 16) input gave an output shaped {context.shape}; "
                "expected (4, 16): sum the weighted steps over the time axis "
                "(axis=1)."
            )
            return None
        if not crashed:  # a crash at time != features already named the fixed-shape weight
            mistakes += _length_problems(layer, layer_cls, rng)

        same = np.repeat(rng.normal(size=(3, 1, 6)).astype("float32"), 6, axis=1)
        pooled = run_probe(
            lambda: keras.ops.convert_to_numpy(layer_cls()(same)),
            "a (3, 6, 6) input whose steps are all equal",
        )
        if not np.allclose(pooled, same[:, 0], atol=1e-5):
            ratio = float(np.median(pooled / same[:, 0]))
            mistakes.append(
                "when every step is the same vector h, attention pooling must return h "
                f"(weights sum to 1); got about {ratio:.3g}·h. Softmax over the wrong axis? "
                "Scores are (batch, time, 1): normalise over axis=1 (time), not the last axis."
            )
        else:  # weights that sum to 1 but ignore the scores make a plain average
            mistakes += _score_problems(layer_cls, rng)
        mistakes += _mask_problems(layer_cls, rng)

        config = run_probe(layer.get_config, "get_config()")
        try:
            json.dumps(config)
        except TypeError:
            mistakes.append(
                "get_config() is not JSON-serializable: it returns weight variables "
                f"{sorted(k for k, v in config.items() if not _jsonable(v))}. The model may "
                "still save, but load_model fails (from_config passes them to __init__). "
                "Return only constructor arguments; Keras saves the weights itself."
            )
            return None
        inputs = keras.Input((5, 5))  # time == features: also runs a fixed-bias layer
        saved = keras.Model(inputs, layer_cls()(inputs))
        batch = rng.normal(size=(2, 5, 5)).astype("float32")
        restored = run_probe(
            lambda: _save_and_reload(saved, {layer_cls.__name__: layer_cls}),
            "saving to .keras and loading back (safe_mode=True)",
        )
        if not np.allclose(
            saved.predict(batch, verbose=0), restored.predict(batch, verbose=0), atol=1e-6
        ):
            mistakes.append(
                "the reloaded model gives different outputs: are all weights "
                "created with self.add_weight in build()?"
            )
        return "shapes, softmax over time, masking, config and save/load look right."

    return run_checker("check_attention_layer", body)


def _length_problems(layer, layer_cls, rng):
    """A layer built on one sequence length must work on any other, and with time=None."""
    failures = []
    try:
        other = keras.ops.convert_to_numpy(layer(rng.normal(size=(4, 12, 16)).astype("float32")))
        if other.shape != (4, 16):
            failures.append(f"the same layer gave {other.shape} on a (4, 12, 16) input")
    except NotImplementedError as error:
        raise NotAttempted() from error
    except Exception as error:
        failures.append(f"the same layer, called again on a (4, 12, 16) input, raised "
                        f"{type(error).__name__}: {_key_line(error)}")  # fmt: skip
    try:
        layer_cls()(keras.Input((None, 16)))
    except NotImplementedError as error:
        raise NotAttempted() from error
    except Exception as error:
        failures.append(f"a fresh layer on keras.Input((None, 16)) (time unknown) raised "
                        f"{type(error).__name__}: {_key_line(error)}")  # fmt: skip
    if not failures:
        return []
    shaped = [f"{w.name} {tuple(w.shape)}" for w in layer.weights if 30 in tuple(w.shape)]
    named = f" ({', '.join(shaped)})" if shaped else ""
    return [
        "weights or bias shaped by the sequence length seen in build()"
        f"{named}: built on 30 steps, the layer breaks on other lengths — "
        + "; ".join(failures)
        + ". Batches have other lengths, and keras.Input((None, features)) builds with "
        "time=None. Shape every weight from input_shape[-1] (features) only; a bias per "
        "position ties the layer to one length (and one bias for all steps cancels under "
        "softmax)."
    ]


def _score_problems(layer_cls, rng):
    """With random weights, attention must weight the steps unequally: not a plain mean."""
    x = rng.normal(size=(3, 6, 6)).astype("float32")  # time == features: no fixed-shape crash
    layer = layer_cls()
    run_probe(lambda: layer(x), "calling the layer on a (3, 6, 6) input")
    for weight in layer.trainable_weights:  # away from any all-zero initialisation
        weight.assign(rng.normal(size=tuple(weight.shape)).astype(weight.dtype))
    context = run_probe(
        lambda: keras.ops.convert_to_numpy(layer(x)), "calling the layer with random weights"
    )
    if np.allclose(context, x.mean(axis=1), atol=1e-5):
        return [
            "the output is the plain average of the steps, whatever the layer's weights: "
            "the attention weights do not depend on the scores, so this is mean pooling, "
            "not attention. Compute one score per step, (batch, time), softmax it over "
            "time and weight the steps with the result (a softmax over a size-1 last axis "
            "gives 1 everywhere)."
        ]
    return []


def _mask_problems(layer_cls, rng):
    """Masked steps must not change the context; no mask may be passed on."""
    x = rng.normal(size=(2, 9, 9)).astype("float32")
    other = x.copy()
    other[:, 4:] = rng.normal(size=(2, 5, 9))  # different values on the masked steps only
    mask = np.arange(9) < 4  # the first 4 steps are real, the last 5 are padding
    mask = np.broadcast_to(mask, (2, 9))
    layer = layer_cls()
    try:
        first, second = (keras.ops.convert_to_numpy(layer(v, mask=mask)) for v in (x, other))
    except TypeError as error:
        if "mask" not in str(error):
            raise Crash("calling the layer with a mask", error) from error
        return [
            "call() takes no `mask` argument, so padding steps get attention weight like "
            "real events. Write call(self, inputs, mask=None), set masked scores to a large "
            "negative number before the softmax, and set self.supports_masking = True."
        ]
    except NotImplementedError as error:
        raise NotAttempted() from error
    except Exception as error:
        raise Crash("calling the layer with a mask", error) from error
    problems = []
    if not np.allclose(first, second, atol=1e-5):
        problems.append(
            "values on masked steps change the output: masked steps must get "
            "exactly zero weight. Set their scores to a large negative number "
            "before the softmax (or multiply the weights by the mask and "
            "renormalise)."
        )
    else:
        problems += _empty_row_problems(layer, x, other, mask)
    ids = keras.Input((6,), dtype="int32")
    embedded = keras.layers.Embedding(50, 6, mask_zero=True)(ids)
    pooled = run_probe(lambda: layer_cls()(embedded), "the layer after a masking Embedding")
    if getattr(pooled, "_keras_mask", None) is not None:
        problems.append(
            "the layer passes a mask on: compute_mask must return None, "
            "because the time axis is pooled away."
        )
    return problems


def _empty_row_problems(layer, x, other, mask):
    """A fully masked row (a user with no history) must give a finite context that no
    padding value can change: all-zero weights, so a zero context."""
    mask = mask.copy()
    mask[1] = False
    outputs = [
        run_probe(
            lambda v=v: keras.ops.convert_to_numpy(layer(v, mask=mask)),
            "calling the layer with a fully masked row",
        )
        for v in (x, other)
    ]
    if not all(np.isfinite(out).all() for out in outputs):
        return [
            "a fully masked row (a user with no history) gives NaN: -inf scores make "
            "exp(-inf - (-inf)) = NaN, and dividing by a sum of zero weights is 0/0. Use a "
            "large finite negative number for masked scores and guard the division "
            "(divide by where(sum > 0, sum, 1)), so that row's weights are all 0."
        ]
    if not np.allclose(outputs[0][1], outputs[1][1], atol=1e-5):
        return [
            "a fully masked row (a user with no history) averages its padding: with every "
            "score at the same large negative number, softmax is uniform over the padding "
            "steps. Multiply the weights by the mask after the softmax, so that row's "
            "weights are all 0 (keras.layers.Softmax does this when given the mask)."
        ]
    return []


def _jsonable(value):
    try:
        json.dumps(value)
        return True
    except TypeError:
        return False


# --- §4 -------------------------------------------------------------------------
def check_full_model(build_fn):
    """Check a section-4 answer: ``build_fn()`` → compiled LSTM + attention model.

    The model must take integer id sequences — either one input (item ids) or
    two (item ids, behavior ids; matched by the names ``item_ids`` /
    ``behavior_ids`` or else by position) — with 0 as masked padding. Probes:
    integer inputs, an LSTM (tanh) and an attention layer fed a sequence
    (return_sequences=True), Embedding input_dim large enough for the largest
    ids, sigmoid (None, 1) output, compile settings, padding position does not
    change a prediction (when it does: no mask_zero, a mask lost on the way to
    the attention layer, or an attention layer that ignores it), save/load
    round trip.
    """

    def body(mistakes):
        rng = np.random.default_rng(0)
        try:
            model = run_probe(build_fn, "build_fn()")
        except Crash as crash:
            text = str(crash.error)
            if "found ndim=2" not in text and "rank-2" not in text:
                raise
            mistakes.append(
                f"{crash}. The attention layer got one vector per sequence: the LSTM before "
                "it needs return_sequences=True, so attention can weight every step."
            )
            return None
        if not isinstance(model, keras.Model):
            raise AssertionError(f"build_fn must return a keras.Model, got {type(model).__name__}.")
        inputs = model.inputs
        for tensor in inputs:
            if "int" not in str(tensor.dtype):
                mistakes.append(
                    f"input {tensor.name!r} is {tensor.dtype}: ids must be integers, "
                    "keras.Input((max_len,), dtype='int32'). Keras 3 silently casts floats "
                    "for Embedding (0.7 becomes 0, the padding id)."
                )
        if len(inputs) not in (1, 2):
            raise AssertionError(
                f"expected 1 or 2 inputs (item ids, behavior ids), got {len(inputs)}."
            )
        time = inputs[0].shape[1] or 20
        layers = list(model._flatten_layers(include_self=False))
        lstms = [la for la in layers if isinstance(la, keras.layers.LSTM)]
        if not lstms:
            mistakes.append("no keras.layers.LSTM layer found.")
        mistakes += _lstm_activation_problems(lstms)
        if not any("attention" in type(la).__name__.lower() for la in layers):
            mistakes.append(
                "no attention layer found: pool the LSTM outputs "
                "(return_sequences=True) with an attention layer."
            )
        mistakes += _compile_problems(model)

        def as_inputs(batch):  # batch: (n, time, 2) = item ids, behavior ids
            if len(inputs) == 1:
                return batch[..., 0]
            names = [t.name for t in inputs]
            order = (1, 0) if "behavior" in names[0] and "item" in names[1] else (0, 1)
            return {name: batch[..., column] for name, column in zip(names, order, strict=True)}

        def predict(batch):
            return _predict(model, as_inputs(batch))

        events = np.stack(
            [rng.integers(1, 1001, size=(8, time)), rng.integers(1, 6, size=(8, time))], axis=-1
        ).astype("int32")
        largest = events[:1].copy()
        largest[0, -1] = (1000, 5)  # the largest item id and behavior id of the data
        try:
            run_probe(lambda: predict(largest), "predict with the largest ids (1000 and 5)")
            predictions = run_probe(
                lambda: predict(events), f"predict on {len(inputs)} id input(s)"
            )
        except Crash as crash:
            out_of_range = re.search(r"= (\d+) is not in \[0, (\d+)\)", str(crash.error))
            if not out_of_range:
                raise
            given, size = out_of_range.groups()
            mistakes.append(
                f"an Embedding has input_dim={size} but receives id {given}: input_dim must "
                "be the largest id + 1 (item ids 1..1000 plus 0 for padding: 1001). On CPU "
                "this raises; on GPU an out-of-range id silently gets a zero vector."
            )
            return None
        mistakes += _output_problems(model, predictions)
        gap = run_probe(
            lambda: _padding_gap(predict, events[0, :5], time), "predict on padded sequences"
        )
        if gap > 1e-6:  # a masked model gives the same number (measured: exactly 0)
            mistakes.append(_lost_mask_problem(model, layers, gap))
        restored = run_probe(
            lambda: _save_and_reload(model, _custom_layer_classes(model)),
            "saving to .keras and loading back (safe_mode=True)",
        )
        if not np.allclose(_predict(restored, as_inputs(events)), predictions, atol=1e-5):
            mistakes.append("the reloaded model gives different predictions.")
        return (
            "integer inputs, masking, LSTM + attention, output, compile and save/load look right."
        )

    return run_checker("check_full_model", body)


def _lost_mask_problem(model, layers, gap):
    """Why padding still changes a §4 model's prediction: no mask, a lost mask, or an
    attention layer that ignores it."""
    measured = (
        f"padding changes the prediction (by {gap:.2g} when the same 5 events are "
        "padded at the end instead of the start)"
    )
    embeddings = [la for la in layers if isinstance(la, keras.layers.Embedding)]
    if not embeddings or not all(la.mask_zero for la in embeddings):
        return (
            f"{measured}: use Embedding(..., mask_zero=True) "
            "and layers that pass the mask on (LSTM, your attention layer)."
        )
    for layer in layers:
        if "attention" not in type(layer).__name__.lower() or not layer._inbound_nodes:
            continue
        node = layer._inbound_nodes[0]
        given = node.arguments.kwargs.get("mask") if node.arguments else None
        received = node.input_tensors[0] if node.input_tensors else None
        if given is None and getattr(received, "_keras_mask", None) is None:
            return (
                f"{measured}: the Embeddings set mask_zero=True, but the mask is lost before "
                f"the attention layer {layer.name!r}. A layer in between drops it: a plain "
                "`+` or keras.ops call on the embeddings, a Lambda, or Flatten. Combine "
                "embeddings with keras.layers.Concatenate() or keras.layers.Add(), which "
                "pass the mask on."
            )
        return (
            f"{measured}: the mask reaches the attention layer {layer.name!r}, but it does "
            "not use it. Give its call a mask=None argument and set the scores of masked "
            "steps to a large negative number before the softmax (weights exactly 0)."
        )
    return f"{measured}: some layer between the Embedding and the output ignores the mask."


# --- notebook 03: masked softmax in NumPy ------------------------------------


def check_masked_softmax(fn):
    """Check ``fn(scores, mask) -> weights``, all ``(batch, time)``, the NumPy
    masked softmax of notebook 03: a softmax over time on the ``True`` steps,
    exactly 0 on the ``False`` steps, zeros for a row with no real step, no
    overflow for large scores, one max shift per row, the caller's scores left
    unchanged. Named on sight: scores * mask, an inverted mask, reductions
    without keepdims."""
    from helpers.scratch import softmax

    scores = np.array([[1.0, 2.0, 3.0, 0.5], [0.0, -1.0, 9.0, 9.0], [2.0, 1.0, 0.0, 0.0]])
    mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]], dtype=bool)
    real_rows = mask.any(axis=1)

    def weights(s):
        with np.errstate(all="ignore"):  # overflow and 0/0 are reported as mistakes below
            return np.asarray(fn(s, mask), dtype=float)

    def body(mistakes):
        given = scores.copy()
        try:
            w = run_probe(lambda: weights(given), "masked_softmax_np(scores, mask)")
        except Crash as crash:
            if "broadcast" not in str(crash.error):
                raise
            mistakes.append(
                f"{crash}. A max or sum over axis=1 gives shape (batch,), which does not "
                "broadcast against (batch, time): reduce with keepdims=True "
                "(scores.max(axis=1, keepdims=True)), so it is (batch, 1)."
            )
            return None
        if w.shape != scores.shape:
            mistakes.append(f"weights have shape {w.shape}, expected {scores.shape} (batch, time).")
            return None
        if not np.array_equal(given, scores):
            mistakes.append(
                "the function changes the caller's scores in place (e.g. scores[~mask] = "
                "-1e9): the attention code reuses them afterwards. Build a new array with "
                "np.where(mask, scores, -1e9) instead."
            )
        with np.errstate(all="ignore"):
            zeroed, inverted = softmax(scores * mask, axis=1), softmax(scores, axis=1, mask=~mask)
        if np.allclose(w, zeroed, equal_nan=True):
            mistakes.append(
                "masked scores are set to 0 (scores * mask), not to a large negative number: "
                "exp(0 - max) is not 0, so padding still gets weight. Use "
                "np.where(mask, scores, -1e9) (or -inf, with care for fully masked rows)."
            )
            return None
        if np.allclose(w, inverted, equal_nan=True):
            mistakes.append(
                "the mask is inverted: the padding steps get the weight and the real ones 0. "
                "In Keras masks True means a real step to keep, False means padding."
            )
            return None
        if np.isnan(w[~real_rows]).any():
            mistakes.append(
                "NaN for a row with no real step: its weights must be all zeros "
                "(avoid -inf - -inf and 0 / 0)."
            )
        elif not np.allclose(w[~real_rows], 0):
            mistakes.append("a row with no real step must give all zeros.")
        padding = ~mask & real_rows[:, None]  # fully masked rows are judged above
        if not np.all(np.nan_to_num(w[padding], nan=1.0) == 0):
            mistakes.append(
                "masked steps get weight: they must get exactly 0 "
                "(mask the scores before exp, not after the softmax)."
            )
        sums = w[real_rows].sum(axis=1)
        if not np.allclose(sums, 1):
            mistakes.append(
                f"rows with real steps sum to {np.round(sums, 3)}, not 1: softmax on the "
                "wrong axis, or normalised over the padding too?"
            )
        moved = run_probe(lambda: weights(np.where(mask, scores, 50.0)), "changing masked scores")
        if not mistakes and not np.allclose(moved, w):
            mistakes.append(
                "the scores of masked steps change the weights: mask before the max and the sum."
            )
        large = run_probe(lambda: weights(scores + 1000.0), "scores + 1000")
        if not np.all(np.isfinite(large)):
            mistakes.append("overflow for large scores: subtract the row max before exp.")
        elif not mistakes:  # rows on very different scales: one shift per row
            spread = scores.copy()
            spread[0] -= 1000.0
            apart = run_probe(lambda: weights(spread), "one row's scores 1000 lower")
            if not np.allclose(np.nan_to_num(apart[real_rows]).sum(axis=1), 1):
                mistakes.append(
                    "a row whose scores are 1000 below another row's gives NaN or zeros: "
                    "the shift is the max of the whole batch, so every exp in that row "
                    "underflows to 0. Subtract each row's own max: "
                    "scores.max(axis=1, keepdims=True)."
                )
        if not mistakes and not np.allclose(w, softmax(scores, axis=1, mask=mask)):
            mistakes.append("the weights differ from a reference masked softmax over time.")
        return "zero on padding, sums to 1 over real steps, stable, fully masked rows give zeros"

    return run_checker("check_masked_softmax", body)


# The exercise checkers of notebooks 10 and 12 live beside their models; the contract
# (DESIGN.md) names them here too. Imported last: those modules use helpers.feedback only.
from helpers.ctr.checks import check_din_pooling, check_gauc, check_recalibrate  # noqa: E402, F401
from helpers.retrieval.checks import check_in_batch_softmax  # noqa: E402, F401


