"""Synthetic social posts about citizen-science projects, in the three formats the loader reads.

Realistic on purpose: nine languages (with emoji and non-Latin hashtags such as #市民科学), originals,
reposts, quotes and replies of earlier posts, project accounts (seed project_social_account) and links
to projects of the bundled catalogues (data/sample/catalogues), so that linking works; SDG hashtags and
phrases; Zipf-distributed project popularity and heavy-tailed likes; a few withheld tweets, deleted
tweets reported in `errors`, and pages without `includes`. Deterministic for a given seed. Posts are
written as they are generated (bounded memory: a window of recent posts to repost), so 10^6 posts and
more are fine.

    python -m cstrack.demo.generate.social --format twitter_v2 --posts 1000000 --seed 7 out.jsonl
    python -m cstrack.demo.generate.social --sample data/sample/social      # the committed demo files
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from cstrack import config

FORMATS = ("twitter_v2", "mastodon", "lynguo")
PAGE_SIZE = 100
WINDOW = 2000  # recent posts that reposts, quotes and replies can point at

TASKS = {
    "en": ["counting birds", "measuring light pollution", "classifying galaxies", "monitoring water quality",
           "mapping plastic litter on beaches", "transcribing old letters", "recording bee sightings"],
    "es": ["contar aves", "medir la contaminación lumínica", "vigilar la calidad del agua",
           "cartografiar la basura marina", "transcribir cartas antiguas", "observar polinizadores"],
    "de": ["Vögel zählen", "die Lichtverschmutzung messen", "die Wasserqualität überwachen", "Wildbienen beobachten",
           "alte Briefe transkribieren"],
    "fr": ["compter les oiseaux", "mesurer la pollution lumineuse", "surveiller la qualité de l'eau",
           "observer les pollinisateurs"],
    "nl": ["vogels tellen", "lichtvervuiling meten", "de waterkwaliteit meten", "libellen tellen",
           "oude archieven overtypen"],
    "it": ["contare gli uccelli", "misurare l'inquinamento luminoso", "monitorare la qualità dell'acqua"],
    "ja": ["鳥を数える", "光害を測定する", "水質を調べる"],
    "ru": ["считать птиц", "измерять световое загрязнение", "следить за качеством воды"],
    "ar": ["عدّ الطيور", "قياس التلوث الضوئي", "مراقبة جودة المياه"],
}  # fmt: skip
TEMPLATES = {
    "en": ["Join {project} and help scientists by {task}! {tags} {url}",
           "Loved spending the weekend {task} with {project} {emoji} {tags}",
           "Disappointed: the {project} app crashed again while {task} {sad} {tags}",
           "New results from {project}: volunteers are {task} all over Europe {tags} {url}",
           "Climate action needs data, and {project} volunteers are {task} {emoji} {tags}",
           "Great turnout today, thank you all for {task} {emoji} {tags}"],
    "es": ["Únete a {project} y ayuda a {task} {tags} {url}",
           "¡Qué buen fin de semana! Fuimos a {task} con {project} {emoji} {tags}",
           "Nuevos resultados de {project}: voluntarios de toda España ayudan a {task} {tags} {url}"],
    "de": ["Mach mit bei {project} und hilf, {task} {tags} {url}",
           "Tolles Wochenende: mit {project} {task} {emoji} {tags}",
           "Neue Ergebnisse von {project}: Freiwillige helfen, {task} {tags}"],
    "fr": ["Rejoignez {project} pour {task} {tags} {url}", "Super week-end à {task} avec {project} {emoji} {tags}"],
    "nl": ["Doe mee met {project} en help {task} {tags} {url}",
           "Mooi weekend: samen met {project} {task} {emoji} {tags}"],
    "it": ["Partecipa a {project} e aiutaci a {task} {tags} {url}",
           "Bellissimo weekend a {task} con {project} {emoji} {tags}"],
    "ja": ["{project}に参加して{task}のを手伝おう！ {emoji} {tags} {url}",
           "今日は{project}で{task}活動をしました {emoji} {tags}"],
    "ru": ["Присоединяйтесь к {project}: помогите {task} {tags} {url}", "Отличные выходные с {project} {emoji} {tags}"],
    "ar": ["انضموا إلى {project} من أجل {task} {tags} {url}", "شكرا لكل المتطوعين في {project} {emoji} {tags}"],
}  # fmt: skip
LANGUAGE_WEIGHTS = {"en": 40, "es": 15, "de": 10, "fr": 8, "nl": 10, "it": 5, "ja": 5, "ru": 4, "ar": 3}
LOCAL_TAGS = {"en": ["CitizenScience"], "es": ["CienciaCiudadana"], "de": ["Bürgerwissenschaft", "CitizenScience"],
              "fr": ["ScienceParticipative"], "nl": ["BurgerWetenschap", "CitizenScience"],
              "it": ["ScienzaPartecipata"], "ja": ["市民科学"], "ru": ["ГражданскаяНаука"],
              "ar": ["علوم_المواطن"]}  # fmt: skip
TOPIC_TAGS = ["CitizenScience", "SDG13", "SDG15", "SDG14", "SDG6", "SDG11", "OpenScience", "Biodiversity",
              "ClimateAction", "Birds", "LightPollution", "Astronomy", "WaterQuality"]  # fmt: skip
PROJECT_WORDS = {"en": ["the project", "our project", "this campaign"], "es": ["el proyecto"], "de": ["dem Projekt"],
                 "fr": ["le projet"], "nl": ["het project"], "it": ["il progetto"], "ja": ["プロジェクト"],
                 "ru": ["проект"], "ar": ["المشروع"]}  # fmt: skip
EMOJI = ["🌍", "🐦", "🔭", "🌌", "🐝", "💧", "🌱", "✨", "🦋", "📊", "🙌"]
SAD = ["😞", "😠", "🙁"]
NAMES = ["ana", "jan", "kim", "lea", "ole", "eva", "max", "ida", "noa", "tom", "sara", "luis", "mia",
         "yuki", "olga", "omar", "pablo", "rosa", "hana", "ivan", "lena", "marco", "nora",
         "emma"]  # fmt: skip
LYNGUO_SOURCES = [("Twitter", 55), ("Facebook", 15), ("Instagram", 12), ("Blogs", 8), ("Noticias", 6), ("Foros", 4)]
LYNGUO_TWEET_BASE = 1_700_000_000_000_000_000  # other tweets than the twitter_v2 files' (same index, other id)
OPINIONS = ["Positiva", "Neutra", "Negativa"]


def catalogue_projects() -> list[str]:
    """Project URLs of the bundled catalogues, read through their mappings' `url` column."""
    root = config.project_dir()
    urls = []
    for mapping in sorted((root / "catalogues").glob("*.yml")):
        data = root / "data" / "sample" / "catalogues" / f"{mapping.stem}.csv"
        spec = yaml.safe_load(mapping.read_text())
        rule = (spec.get("fields") or {}).get("url") if isinstance(spec, dict) else None
        column = rule.get("column") if isinstance(rule, dict) else rule
        if not data.is_file() or not column:
            continue
        with data.open(encoding="utf-8-sig", newline="") as handle:
            urls += [
                row[column].strip() for row in csv.DictReader(handle) if (row.get(column) or "").startswith("http")
            ]
    return sorted(set(urls))


def project_accounts() -> list[dict]:
    with (config.seed_path("project_social_account")).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


class PostFactory:
    """Abstract posts (language, text parts, kind, author, metrics) that each format then writes."""

    def __init__(self, platform: str, seed: int, posts: int, start: datetime, months: int):
        self.rng = random.Random(f"{platform}:{seed}")
        self.platform, self.posts, self.start = platform, posts, start
        self.span = timedelta(days=30.4 * months)
        self.urls = catalogue_projects()
        self.accounts = [
            a for a in project_accounts() if a["platform"] == ("mastodon" if platform == "mastodon" else "twitter")
        ]
        self.users = [f"{self.rng.choice(NAMES)}_{i:05d}" for i in range(max(40, posts // 15))]
        # Zipf-like popularity: a few projects get most of the talk
        self.url_weights = [1 / (rank + 1) for rank in range(len(self.urls))]
        self.recent: deque = deque(maxlen=WINDOW)
        self.languages = list(LANGUAGE_WEIGHTS)
        self.language_weights = list(LANGUAGE_WEIGHTS.values())

    def post(self, index: int) -> dict:
        rng = self.rng
        # growth over the period: later months hold more posts (sqrt spreads them)
        when = self.start + self.span * ((index + rng.random()) / self.posts) ** 0.8
        kind = rng.choices(["original", "repost", "reply", "quote"], [50, 30, 12, 8])[0] if self.recent else "original"
        account = rng.choice(self.accounts) if self.accounts and kind == "original" and rng.random() < 0.08 else None
        author = account["handle"] if account else rng.choice(self.users)
        language = rng.choices(self.languages, self.language_weights)[0]
        referenced = rng.choice(self.recent) if kind != "original" else None
        if kind == "repost":
            text, tags, url, language = (
                referenced["text"],
                referenced["tags"],
                referenced["url"],
                referenced["language"],
            )
        else:
            url = None
            if account:
                url = account["project_url"]
            elif self.urls and rng.random() < 0.35:
                url = rng.choices(self.urls, self.url_weights)[0]
                if rng.random() < 0.3:
                    url += ("&" if "?" in url else "?") + "utm_source=social&utm_medium=post"
            project_tag = account["hashtag"] if account else None
            if not account and self.accounts and rng.random() < 0.1:  # fans use the project's hashtag too
                project_tag = rng.choice(self.accounts)["hashtag"]
            tags = rng.sample(LOCAL_TAGS[language], 1) + rng.sample(TOPIC_TAGS, rng.randint(0, 2))
            tags = list(dict.fromkeys(tags + ([project_tag] if project_tag else [])))
            project = account["hashtag"] if account else rng.choice(PROJECT_WORDS[language])
            text = (
                rng.choice(TEMPLATES[language])
                .format(
                    project=project,
                    task=rng.choice(TASKS[language]),
                    emoji=rng.choice(EMOJI),
                    sad=rng.choice(SAD),
                    tags=" ".join("#" + t for t in tags),
                    url=url or "",
                )
                .strip()
            )
            text = " ".join(text.split())
            if kind == "reply":
                text = "@" + referenced["author"] + " " + text
        popularity = 8 if account else 1
        post = {
            "index": index, "when": when, "kind": kind, "author": author, "language": language, "text": text,
            "tags": tags, "url": url, "referenced": referenced,
            "likes": int(rng.paretovariate(1.6) * popularity) - 1 if kind != "repost" else 0,
            "reposts": int(rng.paretovariate(2.2) * popularity) - 1 if kind != "repost" else 0,
            "replies": int(rng.paretovariate(3.0)) - 1, "quotes": int(rng.paretovariate(4.0)) - 1,
        }  # fmt: skip
        if kind == "original":
            self.recent.append(post)
        return post


def _twitter_id(post: dict, base: int = 1_600_000_000_000_000_000) -> str:
    return str(base + post["index"] * 4096 + 7)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _entities(text: str, tags: list[str], url: str | None, mentions: list[tuple[str, str]]) -> dict:
    entities: dict = {}
    if tags:
        entities["hashtags"] = [
            {"start": max(text.find("#" + t), 0), "end": max(text.find("#" + t), 0) + len(t) + 1, "tag": t}
            for t in tags
        ]
    if mentions:
        entities["mentions"] = [{"start": 0, "end": len(h) + 1, "username": h, "id": i} for h, i in mentions]
    if url:
        entities["urls"] = [{"start": 0, "end": 23, "url": "https://t.co/x", "expanded_url": url}]
    return entities


def _user_id(handle: str) -> str:
    return str(abs(hash_handle(handle)))


def hash_handle(handle: str) -> int:
    """A stable numeric user id for a synthetic handle (Python's hash() is salted per process)."""
    value = 1469598103934665603
    for byte in handle.encode():
        value = ((value ^ byte) * 1099511628211) % (1 << 62)
    return value


def _tweet(post: dict) -> dict:
    rng_withheld = post["index"] % 197 == 13
    ref = post["referenced"]
    text = post["text"]
    mentions = []
    if post["kind"] == "repost":
        text = f"RT @{ref['author']}: {text}"[:280]
        mentions = [(ref["author"], _user_id(ref["author"]))]
    elif post["kind"] == "reply":
        mentions = [(ref["author"], _user_id(ref["author"]))]
    tweet = {
        "id": _twitter_id(post),
        "author_id": _user_id(post["author"]),
        "created_at": _iso(post["when"]),
        "lang": post["language"] if post["index"] % 41 else "und",
        "text": text,
        "entities": _entities(text, post["tags"], post["url"], mentions),
        "public_metrics": {"retweet_count": max(post["reposts"], 0), "reply_count": max(post["replies"], 0),
                           "like_count": max(post["likes"], 0), "quote_count": max(post["quotes"], 0),
                           "impression_count": max(post["likes"], 0) * 37 + 11},
    }  # fmt: skip
    if ref:
        kind = {"repost": "retweeted", "quote": "quoted", "reply": "replied_to"}[post["kind"]]
        tweet["referenced_tweets"] = [{"type": kind, "id": _twitter_id(ref)}]
    if rng_withheld:
        tweet["withheld"] = {"copyright": False, "country_codes": ["DE"]}
    return tweet


def write_twitter_v2(path: Path, factory: PostFactory, posts: int, as_array: bool = False) -> None:
    """API v2 search pages of PAGE_SIZE tweets, one page per line (JSONL), or a JSON array of pages."""
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n" if as_array else "")
        for page_start in range(0, posts, PAGE_SIZE):
            batch = [factory.post(i) for i in range(page_start, min(posts, page_start + PAGE_SIZE))]
            page = {"data": [_tweet(p) for p in batch]}
            page_number = page_start // PAGE_SIZE
            if page_number % 50 != 17:  # now and then a page comes without `includes`
                authors = dict.fromkeys(p["author"] for p in batch)
                page["includes"] = {
                    "users": [{"id": _user_id(h), "username": h, "name": h.split("_")[0].title()} for h in authors]
                }
            if page_number % 20 == 5:  # a tweet deleted between search and lookup
                missing = str(1_600_000_000_000_000_000 + page_start * 4096 + 3)
                page["errors"] = [{"value": missing, "detail": f"Could not find tweet with ids: [{missing}].",
                                   "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
                                   "resource_id": missing,
                                   "type": "https://api.twitter.com/2/problems/resource-not-found"}]  # fmt: skip
            page["meta"] = {
                "result_count": len(batch),
                "newest_id": page["data"][-1]["id"],
                "oldest_id": page["data"][0]["id"],
            }
            line = json.dumps(page, ensure_ascii=False)
            if as_array:
                out.write(("," if page_start else "") + line + "\n")
            else:
                out.write(line + "\n")
        out.write("]\n" if as_array else "")


def _instance(handle: str) -> str:
    return (
        "fediscience.org"
        if hash_handle(handle) % 3 == 0
        else ("mastodon.social" if hash_handle(handle) % 3 == 1 else "mastodon.nl")
    )


def _acct(handle: str) -> tuple[str, str]:
    """(acct, account url): seed handles already name their instance."""
    if "@" in handle:
        user, instance = handle.split("@", 1)
    else:
        user, instance = handle, _instance(handle)
    return f"{user}@{instance}", f"https://{instance}/@{user}"


def _status(post: dict, with_reblog: bool = True) -> dict:
    acct, account_url = _acct(post["author"])
    user, instance = acct.split("@")
    status_id = str(110_000_000_000_000_000 + post["index"] * 1024)
    tag_links = " ".join(
        f'<a href="https://{instance}/tags/{t}" class="mention hashtag" rel="tag">#<span>{t}</span></a>'
        for t in post["tags"]
    )
    body = post["text"]
    for t in post["tags"]:
        body = body.replace("#" + t, "")
    if post["url"]:
        body = body.replace(post["url"], "")
    link = (
        f' <a href="{post["url"]}" rel="nofollow noopener" target="_blank">{post["url"][:30]}</a>'
        if post["url"]
        else ""
    )
    status = {
        "id": status_id,
        "uri": f"https://{instance}/users/{user}/statuses/{status_id}",
        "url": f"https://{instance}/@{user}/{status_id}",
        "created_at": _iso(post["when"]),
        "visibility": "public" if post["index"] % 53 else "unlisted",
        "language": post["language"] if post["index"] % 11 else None,
        "in_reply_to_id": None,
        "content": f"<p>{' '.join(body.split())} {tag_links}{link}</p>",
        "account": {"id": str(hash_handle(post["author"]) % 10**9), "username": user, "acct": acct, "url": account_url,
                    "display_name": user.split("_")[0].title()},
        "reblog": None,
        "tags": [{"name": t, "url": f"https://{instance}/tags/{t}"} for t in post["tags"]],
        "mentions": [],
        "replies_count": max(post["replies"], 0), "reblogs_count": max(post["reposts"], 0),
        "favourites_count": max(post["likes"], 0),
    }  # fmt: skip
    ref = post["referenced"]
    if ref and with_reblog:
        ref_status = _status(ref, with_reblog=False)
        if post["kind"] == "repost":
            status.update(content="", tags=[], language=None, reblog=ref_status)
        elif post["kind"] == "reply":
            status["in_reply_to_id"] = ref_status["id"]
            ref_acct, ref_url = _acct(ref["author"])
            status["mentions"] = [
                {
                    "id": ref_status["account"]["id"],
                    "username": ref_acct.split("@")[0],
                    "acct": ref_acct,
                    "url": ref_url,
                }
            ]
            status["content"] = status["content"].replace(
                "@" + ref["author"],
                f'<span class="h-card"><a href="{ref_url}" class="u-url mention">'
                f"@<span>{ref_acct.split('@')[0]}</span></a></span>",
            )
        else:
            status["quote"] = {"state": "accepted", "quoted_status": ref_status}
    return status


def write_mastodon(path: Path, factory: PostFactory, posts: int) -> None:
    """A JSON array of Status entities, written one status at a time."""
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for i in range(posts):
            out.write(("," if i else "") + json.dumps(_status(factory.post(i)), ensure_ascii=False) + "\n")
        out.write("]\n")


def write_lynguo(path: Path, factory: PostFactory, posts: int) -> None:
    """A Lynguo listening export: `;`-separated, Spanish headers, local date format."""
    rng = random.Random(f"lynguo-cells:{factory.posts}:{factory.start.isoformat()}")
    sources, weights = zip(*LYNGUO_SOURCES, strict=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerow(["Fecha", "Fuente", "Texto", "Enlace", "Marca", "Usuario", "Opinion", "Impacto"])
        for i in range(posts):
            post = factory.post(i)
            source = rng.choices(sources, weights)[0]
            text = post["text"] if post["kind"] != "repost" else f"RT @{post['referenced']['author']}: {post['text']}"
            if source == "Twitter":
                link = f"https://twitter.com/{post['author']}/status/{_twitter_id(post, LYNGUO_TWEET_BASE)}"
            elif source in ("Blogs", "Noticias", "Foros"):
                link = f"https://blog-{hash_handle(post['author']) % 97}.example.org/{post['when']:%Y/%m}/post-{i}"
            else:
                link = f"https://www.{source.lower()}.com/{post['author']}/posts/{1000 + i}"
            stamp = post["when"].strftime("%d/%m/%Y %H:%M") if i % 2 else post["when"].strftime("%Y-%m-%d %H:%M:%S")
            marca = post["tags"][-1] if post["tags"] else "CitizenScience"
            impact = max(post["likes"], 0) * 120 + rng.randint(10, 900)
            writer.writerow(
                [
                    stamp,
                    source,
                    text,
                    link,
                    marca,
                    "@" + post["author"],
                    rng.choice(OPINIONS),
                    f"{impact:,}".replace(",", "."),
                ]
            )


def generate_social(
    format: str,
    path: str | Path,
    posts: int,
    seed: int = 0,
    start: datetime | None = None,
    months: int = 12,
    as_array: bool = False,
) -> Path:
    """Write `posts` synthetic posts in `format` to `path`; the same arguments write the same bytes."""
    if format not in FORMATS:
        raise ValueError(f"unknown social format {format!r}; known: {', '.join(FORMATS)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    start = start or datetime(2024, 1, 1, tzinfo=UTC)
    platform = "mastodon" if format == "mastodon" else "twitter"
    factory = PostFactory(f"{format}:{platform}", seed, posts, start, months)
    if format == "twitter_v2":
        write_twitter_v2(path, factory, posts, as_array)
    elif format == "mastodon":
        write_mastodon(path, factory, posts)
    else:
        write_lynguo(path, factory, posts)
    return path


def generate_sample(folder: str | Path, posts: int = 300, seed: int = 2024) -> list[Path]:
    """The committed demo files: `posts` posts per format over the 12 months of 2024."""
    folder = Path(folder)
    return [
        generate_social("twitter_v2", folder / "twitter_v2_citizen_science_2024.jsonl", posts, seed),
        generate_social("mastodon", folder / "mastodon_citizen_science_2024.json", posts, seed),
        generate_social("lynguo", folder / "lynguo_citizen_science_2024.csv", posts, seed),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cstrack.demo.generate.social", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("out", type=Path, help="the file to write (with --sample: the folder)")
    parser.add_argument("--format", choices=FORMATS, default="twitter_v2")
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument(
        "--json-array", action="store_true", help="twitter_v2: a JSON array of pages instead of JSON lines"
    )
    parser.add_argument("--sample", action="store_true", help="write the three demo files into OUT")
    args = parser.parse_args(argv)
    if args.sample:
        for path in generate_sample(args.out):
            print(path)
    else:
        print(
            generate_social(args.format, args.out, args.posts, args.seed, months=args.months, as_array=args.json_array)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
