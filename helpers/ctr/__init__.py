"""Candidate-aware click models (notebooks 10 and 11): the industrial ranking line.

* ``simulator`` — users with drifting interests, behavior histories, impressions,
  clicks and conversions drawn from known probabilities (exact Bayes ceilings);
* ``layers`` — DIN activation unit (``DINAttention``), ``Dice``, AUGRU cell;
* ``models`` — pooling-attention baseline, DIN, DIEN-lite, SIM (hard search), ESMM;
* ``serving`` — scoring many candidates for one user, naive vs user side once;
* ``checks`` — exercise checkers (``check_gauc``, ``check_din_pooling``, ``check_recalibrate``);
* ``benchmark`` — ``python -m helpers.benchmark --task ctr``.

Nothing heavy is imported here: Keras loads with ``layers`` / ``models``.
"""
