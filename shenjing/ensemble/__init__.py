"""shenjing.ensemble: averaging, voting, stacking, bagging, snapshot and fast geometric ensembles (seed 004 §7)."""

from .averaging import *
from .bagging import *
from .snapshot import *
from .stacking import *
