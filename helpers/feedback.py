"""The exercise-feedback protocol every checker follows (``helpers.checks`` and the
checkers of notebooks 07, 08 and 09).

A checker either prints one ``✓`` line and returns ``True``; or raises
``AssertionError`` listing every mistake, each with its fix; or prints
"not attempted yet" and returns ``False`` while the learner's answer still raises
``NotImplementedError``, so an untouched question notebook runs end to end.

Only the standard library: checkers that need no Keras (``helpers.churn``,
``helpers.quiz``) use it without importing TensorFlow.
"""

import re

NOT_ATTEMPTED = "not attempted yet"


class NotAttempted(Exception):
    """The learner's code raised NotImplementedError: the stub is untouched."""


def run_probe(step, description):
    """Run one probe; turn NotImplementedError into NotAttempted, other errors
    into an AssertionError that says which probe crashed and how."""
    try:
        return step()
    except NotImplementedError as error:
        raise NotAttempted() from error
    except AssertionError:
        raise
    except Exception as error:  # the learner's code crashed: say where
        raise Crash(description, error) from error


class Crash(Exception):
    def __init__(self, description, error):
        self.description, self.error = description, error
        super().__init__(f"{description} raised {type(error).__name__}: {_key_line(error)}")


def _key_line(error):
    """The informative line of a (often long) Keras/TensorFlow error message."""
    text = re.sub(r"\x1b\[[0-9;]*m|\{\{function_node[^}]*\}\}", "", str(error))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for key in ("Incompatible shapes", "ndim", "not JSON serializable", "Could not locate"):
        for line in lines:
            if key in line:
                return line[:300]
    useful = [line for line in lines if not line.startswith("Exception encountered")]
    return (useful or lines or [""])[0][:300]


def report(name, mistakes, passed_note):
    """Raise ``AssertionError`` listing ``mistakes`` (numbered), or print ``✓`` and return True."""
    if mistakes:
        lines = "\n".join(f"  {i}. {m}" for i, m in enumerate(mistakes, 1))
        raise AssertionError(f"{name}: {len(mistakes)} problem(s) found\n{lines}")
    print(f"✓ {name}: {passed_note}")
    return True


def not_attempted(
    name,
    raiser="the exercise",
    then="The cells below use the reference implementation from helpers.",
):
    """Say that ``raiser`` still raises NotImplementedError and what happens instead; False."""
    print(f"{name}: {NOT_ATTEMPTED} ({raiser} still raises NotImplementedError). {then}")
    return False


def run_checker(name, body):
    """Run ``body(mistakes)``; handle not-attempted and crashes uniformly."""
    mistakes = []
    try:
        note = body(mistakes)
    except NotAttempted:
        return not_attempted(name)
    except Crash as crash:
        mistakes.append(explain_crash(crash))
        note = None
    return report(name, mistakes, note)


def explain_crash(crash):
    text = str(crash.error)
    if "Incompatible shapes" in text or "broadcast" in text.lower():
        return (
            f"{crash}. A weight shaped (features, 1) added to scores shaped "
            "(batch, time, 1) only broadcasts when time == features. A bias that is "
            "the same for every step cancels under softmax anyway: drop it, or put it "
            "inside a tanh (additive attention)."
        )
    if "ndim=4" in text or "expected ndim=3" in text:
        return (
            f"{crash}. Embedding turns each integer id into a vector, so an "
            "Embedding on a (time, features) float input gives a 4-D tensor the LSTM "
            "refuses. Feed integer ids shaped (batch, time) to the Embedding layers."
        )
    return str(crash)


def print_failure(failure: AssertionError) -> None:
    """A checker's AssertionError as the learner should see it: a ``✗`` line, then the
    numbered mistakes; no traceback."""
    headline, _, details = str(failure).partition("\n")
    print(f"✗ {headline}")
    if details:
        print(details)


def use_if_correct(checker, answer, reference, *, kept_as):
    """The check cell's whole job: return what the cells below should use.

    * the answer passes ``checker`` → the ✓ line; returns ``answer``;
    * the stub is untouched → "not attempted yet"; returns ``reference``;
    * the answer is wrong → a ``✗`` line and the numbered mistakes come first (no
      traceback, and the warnings the probes trigger are silenced so they cannot
      bury the message); then it says that the cells below continue with the
      reference and that the learner's code is still available as ``kept_as``;
      returns ``reference``. "Run All" therefore always reaches the end with
      correct downstream numbers, and a wrong answer is still visible at a glance.

    ``checker`` keeps its own protocol (``AssertionError`` on a wrong answer), so
    it can be called directly to see the full traceback.
    """
    import warnings

    reference_name = getattr(reference, "__qualname__", repr(reference))
    reference_name = f"{getattr(reference, '__module__', '')}.{reference_name}".lstrip(".")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            passed = checker(answer)
        except AssertionError as failure:
            print_failure(failure)
            print(
                f"→ The cells below continue with the reference {reference_name}, so their "
                f"numbers stay right. Your code is kept as `{kept_as}`: fix it in the "
                "exercise cell, run that cell and this one again. To give up on the "
                "exercise, just go on."
            )
            return reference
    return answer if passed else reference
