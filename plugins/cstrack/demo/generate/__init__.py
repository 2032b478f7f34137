"""Generators of synthetic demo and test data (deterministic for a given seed).

`generate_inbox` (the command `cstrack generate`) writes a whole inbox at scale in the real input
formats, which `CSTRACK_INBOX=DIR cstrack refresh` loads as it is:

- `catalogues/`: both catalogue exports (generate/catalogue.py), for the committed mappings;
- `surveys/`: the participants' survey sheets (generate/survey.py: CSV, XLSX, SPSS), for the
  committed codebooks in surveys/;
- `social/`: posts in the three formats (generate/social.py: twitter_v2 JSON lines, Mastodon JSON,
  Lynguo CSV), streamed to disk.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

# respondents per wave and language in the bundled survey (generate/survey.py's default): the split kept at scale
SURVEY_SPLIT = {"2021": {"en": 110, "de": 100, "es": 90}, "2022": {"en": 120, "de": 100, "es": 95}}
SOCIAL_SPLIT = {"twitter_v2": 0.6, "mastodon": 0.2, "lynguo": 0.2}
SOCIAL_FILES = {
    "twitter_v2": "twitter_v2_generated.jsonl",
    "mastodon": "mastodon_generated.json",
    "lynguo": "lynguo_generated.csv",
}
MIN_RESPONDENTS = 5  # per file: the generator puts two careless answers into each file


def _say(message: str) -> None:
    import sys

    print(message, file=sys.stderr, flush=True)


def survey_waves(respondents: int) -> dict[str, dict[str, int]]:
    """`respondents` split over the waves and languages as in the bundled survey."""
    total = sum(n for wave in SURVEY_SPLIT.values() for n in wave.values())
    return {
        wave: {language: max(MIN_RESPONDENTS, round(respondents * n / total)) for language, n in sizes.items()}
        for wave, sizes in SURVEY_SPLIT.items()
    }


def social_split(posts: int) -> dict[str, int]:
    """`posts` over the three formats (the remainder goes to twitter_v2); formats with no post are left out."""
    counts = {f: int(posts * share) for f, share in SOCIAL_SPLIT.items()}
    counts["twitter_v2"] += posts - sum(counts.values())
    return {f: n for f, n in counts.items() if n > 0}


def _check_codebooks(generated: Path, committed: Path) -> None:
    """The sheets must fit the committed codebooks: the generator's codebooks (its comment aside) are theirs."""
    from cstrack.errors import CstrackError

    for book in sorted(generated.glob("*.yml")):
        mine = book.read_text(encoding="utf-8").split("\n", 1)[1]
        theirs = committed / book.name
        if not theirs.is_file() or theirs.read_text(encoding="utf-8").split("\n", 1)[1] != mine:
            raise CstrackError(
                f"{theirs}: missing or not the survey generator's codebook;"
                " regenerate it with python -m cstrack.demo.generate.survey"
            )


class _FileProgress:
    """Reports a growing file's size every few seconds (the social generator writes without callbacks)."""

    def __init__(self, path: Path, label: str, say: Callable[[str], None], every: float = 10.0):
        self.path, self.label, self.say, self.every = path, label, say, every
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.done.wait(self.every):
            if self.path.exists():
                self.say(f"  {self.label}: {self.path.stat().st_size / 1e6:.0f} MB written")

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()


def generate_inbox(
    out: str | Path,
    projects: int,
    posts: int,
    respondents: int,
    seed: int = 0,
    progress: Callable[[str], None] | None = _say,
) -> dict[str, list[Path]]:
    """Write an inbox folder with `projects` catalogue projects, `posts` social posts and about
    `respondents` survey respondents; the same arguments write the same CSV and JSON bytes."""
    from cstrack import config
    from cstrack.demo.generate.catalogue import generate_catalogues
    from cstrack.demo.generate.social import generate_social
    from cstrack.demo.generate.survey import generate_survey
    from cstrack.errors import CstrackError

    for name, value in (("projects", projects), ("posts", posts), ("respondents", respondents)):
        if value < 0:
            raise CstrackError(f"--{name} must be 0 or more, not {value}")
    if projects == 0:
        raise CstrackError("--projects must be at least 1: the refresh needs a catalogue")
    out = Path(out)
    say = progress or (lambda message: None)
    written: dict[str, list[Path]] = {"catalogues": [], "surveys": [], "social": []}
    started = time.perf_counter()

    say(f"catalogues: {projects} projects into {out / 'catalogues'}")
    written["catalogues"] = generate_catalogues(out / "catalogues", projects, seed, progress=progress)

    if respondents:
        waves = survey_waves(respondents)
        say(f"surveys: {sum(n for w in waves.values() for n in w.values())} respondents into {out / 'surveys'}")
        with tempfile.TemporaryDirectory() as codebooks:
            files = generate_survey(out / "surveys", Path(codebooks), waves=waves, seed=seed)
            _check_codebooks(Path(codebooks), config.project_dir() / "surveys")
        written["surveys"] = [f.data_path for f in files]

    for number, (format, n) in enumerate(social_split(posts).items()):
        path = out / "social" / SOCIAL_FILES[format]
        say(f"social: {n} {format} posts into {path}")
        with _FileProgress(path, format, say):
            written["social"].append(generate_social(format, path, n, seed=seed * 10 + number))
    say(f"generated in {time.perf_counter() - started:.1f} s")
    return written
