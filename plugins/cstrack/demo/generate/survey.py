"""A synthetic multilingual participants' survey, shaped like CS Track's: LimeSurvey-like exports.

Two waves, one export per language and wave (EN as CSV, DE as XLSX, ES as SPSS .sav), each with its
codebook. Items: the 12 motivation factors of the CS Track participant survey (grouped into three
constructs) and learning outcomes (two constructs, one reverse-coded item), Likert 1-5, answers
driven by one latent trait per construct so the constructs are reliable. Realistic dirt: missing
answers, a few out-of-scale answers, refusals of consent, self-described genders that no codebook
maps, free-text remarks. Deterministic for a given seed.

`generate_survey(data_dir, codebook_dir)` writes the files and returns what it wrote, answers
included, so tests can recompute every statistic independently.
"""

from __future__ import annotations

import csv
import random
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import yaml

# (code, construct, reverse, EN, DE, ES)
ITEMS = [
    ("MOT01", "mot_intrinsic", False, "I am interested in the topic of the project",
     "Mich interessiert das Thema des Projekts", "Me interesa el tema del proyecto"),
    ("MOT02", "mot_intrinsic", False, "I enjoy taking part",
     "Das Mitmachen macht mir Spaß", "Disfruto participando"),
    ("MOT03", "mot_intrinsic", False, "I want to learn something new",
     "Ich möchte etwas Neues lernen", "Quiero aprender algo nuevo"),
    ("MOT04", "mot_intrinsic", False, "I like being outdoors and in nature",
     "Ich bin gern draußen in der Natur", "Me gusta estar al aire libre y en la naturaleza"),
    ("MOT05", "mot_collective", False, "I want to contribute to scientific research",
     "Ich möchte zur Forschung beitragen", "Quiero contribuir a la investigación científica"),
    ("MOT06", "mot_collective", False, "I want to help protect the environment",
     "Ich möchte die Umwelt schützen", "Quiero ayudar a proteger el medio ambiente"),
    ("MOT07", "mot_collective", False, "I want to make a difference in my community",
     "Ich möchte in meiner Gemeinde etwas bewirken", "Quiero cambiar algo en mi comunidad"),
    ("MOT08", "mot_collective", False, "The project's values are my values",
     "Die Werte des Projekts sind meine Werte", "Los valores del proyecto son los míos"),
    ("MOT09", "mot_social", False, "I want to meet people who share my interests",
     "Ich möchte Gleichgesinnte treffen", "Quiero conocer a gente con mis intereses"),
    ("MOT10", "mot_social", False, "I want recognition for my contribution",
     "Ich möchte Anerkennung für meinen Beitrag", "Quiero reconocimiento por mi aportación"),
    ("MOT11", "mot_social", False, "It helps my career or studies",
     "Es hilft mir im Beruf oder Studium", "Me ayuda en mi carrera o mis estudios"),
    ("MOT12", "mot_social", False, "Friends or family take part too",
     "Freunde oder Familie machen auch mit", "Mis amigos o mi familia también participan"),
    ("LRN01", "learn_knowledge", False, "I learned about the topic of the project",
     "Ich habe etwas über das Thema gelernt", "Aprendí sobre el tema del proyecto"),
    ("LRN02", "learn_knowledge", False, "I learned how scientific research works",
     "Ich habe gelernt, wie Forschung funktioniert", "Aprendí cómo funciona la investigación"),
    ("LRN03", "learn_knowledge", False, "I learned new practical skills",
     "Ich habe neue praktische Fähigkeiten gelernt", "Aprendí nuevas habilidades prácticas"),
    ("LRN04", "learn_knowledge", True, "I did not learn anything new",
     "Ich habe nichts Neues gelernt", "No aprendí nada nuevo"),
    ("LRN05", "learn_attitude", False, "I feel more confident talking about science",
     "Ich rede jetzt selbstbewusster über Wissenschaft", "Me siento más seguro hablando de ciencia"),
    ("LRN06", "learn_attitude", False, "I changed my everyday behaviour",
     "Ich habe mein Alltagsverhalten geändert", "Cambié mi comportamiento cotidiano"),
    ("LRN07", "learn_attitude", False, "I became more interested in science",
     "Mein Interesse an Wissenschaft ist gewachsen", "Me intereso más por la ciencia"),
]  # fmt: skip

CONSTRUCTS = {
    "mot_intrinsic": "Motivation: interest, enjoyment and learning",
    "mot_collective": "Motivation: contributing to research, environment and community",
    "mot_social": "Motivation: social contact, recognition and career",
    "learn_knowledge": "Learning: knowledge and skills",
    "learn_attitude": "Learning: confidence, behaviour and interest",
}
# construct -> (mean on the latent scale, loading): answers = round(3 + mean + loading * trait + noise)
LATENT = {"mot_intrinsic": (1.0, 0.9), "mot_collective": (0.7, 0.9), "mot_social": (-0.6, 0.8),
          "learn_knowledge": (0.3, 0.9), "learn_attitude": (0.0, 0.8)}  # fmt: skip
WAVE_SHIFT = {"2021": 0.0, "2022": 0.15}  # a small upward trend in the second wave

PROJECTS = {  # code -> answer option per language
    "mueckenatlas": ("Mosquito Atlas (Mückenatlas)", "Mückenatlas", "Atlas de mosquitos (Mückenatlas)"),
    "plastic_pirates": ("Plastic Pirates", "Plastikpiraten", "Piratas del plástico"),
    "observadores_del_mar": ("Sea Watchers (Observadores del Mar)", "Meeresbeobachter (Observadores del Mar)",
                             "Observadores del Mar"),
    "penguin_watch": ("Penguin Watch (Zooniverse)", "Penguin Watch (Zooniverse)", "Penguin Watch (Zooniverse)"),
    "city_nature_challenge": ("City Nature Challenge", "City Nature Challenge", "Reto Naturaleza Urbana"),
}  # fmt: skip
COUNTRIES = {  # ISO-2 -> answer option per language
    "DE": ("Germany", "Deutschland", "Alemania"), "ES": ("Spain", "Spanien", "España"),
    "AT": ("Austria", "Österreich", "Austria"), "GB": ("United Kingdom", "Vereinigtes Königreich", "Reino Unido"),
    "NL": ("Netherlands", "Niederlande", "Países Bajos"), "IT": ("Italy", "Italien", "Italia"),
}  # fmt: skip
GENDERS = {"female": ("Female", "Weiblich", "Mujer"), "male": ("Male", "Männlich", "Hombre"),
           "non_binary": ("Non-binary", "Nicht-binär", "No binario"),
           None: ("Prefer not to say", "Keine Angabe", "Prefiero no decirlo")}  # fmt: skip
SELF_DESCRIBED = ("genderqueer (self-described)", "agender, self-described", "two-spirit (self-described)")
AGE_BANDS = {"18-24": ("18-24", "18 bis 24", "18 a 24"), "25-34": ("25-34", "25 bis 34", "25 a 34"),
             "35-44": ("35-44", "35 bis 44", "35 a 44"), "45-54": ("45-54", "45 bis 54", "45 a 54"),
             "55-64": ("55-64", "55 bis 64", "55 a 64"),
             "65+": ("65 or older", "65 und älter", "65 o más")}  # fmt: skip
REMARKS = (
    (
        "Great project, I would like more feedback on the data.",
        "More training sessions please!",
        "The app crashed twice.",
    ),
    (
        "Tolles Projekt, mehr Rückmeldung zu den Daten wäre schön.",
        "Bitte mehr Schulungen!",
        "Die App ist zweimal abgestürzt.",
    ),
    (
        "Gran proyecto, me gustaría más información sobre los datos.",
        "¡Más formación, por favor!",
        "La aplicación falló dos veces.",
    ),
)

LANGUAGES = ("en", "de", "es")
LANGUAGE_INDEX = {"en": 0, "de": 1, "es": 2}
FORMAT_OF = {"en": "csv", "de": "xlsx", "es": "sav"}

# LimeSurvey-like question texts and headers, per language
QUESTION = {
    "en": ("Why do you take part in citizen science?", "What did you gain from taking part?"),
    "de": ("Warum machen Sie bei Citizen Science mit?", "Was haben Sie durch Ihre Teilnahme gewonnen?"),
    "es": ("¿Por qué participa en ciencia ciudadana?", "¿Qué ha obtenido de su participación?"),
}
HEADERS = {
    "en": {"id": "Token", "submitted": "Date submitted",
           "consent": "Informed consent: I agree that my answers are used for research",
           "gender": "What is your gender?", "age": "How old are you?", "country": "In which country do you live?",
           "project": "In which project do you take part?",
           "remarks": "Is there anything else you would like to tell us?",
           "yes": "Yes, I agree", "no": "No"},
    "de": {"id": "Zugangsschlüssel", "submitted": "Datum Abgeschickt",
           "consent": ("Einverständniserklärung: Ich bin einverstanden,"
                       " dass meine Antworten für die Forschung genutzt werden"),
           "gender": "Welches Geschlecht haben Sie?", "age": "Wie alt sind Sie?",
           "country": "In welchem Land leben Sie?",
           "project": "An welchem Projekt nehmen Sie teil?", "remarks": "Wollen Sie uns sonst noch etwas mitteilen?",
           "yes": "Ich erkläre mich einverstanden.", "no": "Nein"},
    "es": {"id": None, "submitted": "submitdate", "consent": "consent",
           "gender": "gender", "age": "age", "country": "country", "project": "project", "remarks": "remarks",
           "yes": "Acepto", "no": "No acepto"},
}  # fmt: skip
SAV_LABELS = {"submitdate": "Fecha de envío",
              "consent": "Consentimiento informado: acepto que mis respuestas se usen para la investigación",
              "gender": "¿Cuál es su género?", "age": "¿Qué edad tiene?", "country": "¿En qué país vive?",
              "project": "¿En qué proyecto participa?", "remarks": "¿Quiere contarnos algo más?"}  # fmt: skip


@dataclass
class Respondent:
    row: int  # 1-based data row in its file
    token: str | None
    consent: bool
    gender: str | None  # canonical, None when not stated or self-described
    gender_raw: str
    age_band: str
    country: str
    project: str
    answers: dict[str, int | None]  # as written to the file: None = missing, may be out of scale
    remark: str | None


@dataclass
class SurveyFile:
    survey: str
    wave: str
    language: str
    data_path: Path
    codebook_path: Path
    respondents: list[Respondent] = field(default_factory=list)


def item_header(language: str, code: str, text: str) -> str:
    """EN: code and text (LimeSurvey 'question code & text'); DE: text only; ES (.sav): a variable name."""
    question = QUESTION[language][0 if code.startswith("MOT") else 1]
    if language == "en":
        return f"{code[:3]}[SQ{code[3:]}]. {question} [{text}]"
    if language == "de":
        return f"{question} [{text}]"
    return f"{code[:3]}_SQ{code[3:]}"


def codebook_prefix(language: str, code: str, text: str) -> dict:
    header = item_header(language, code, text)
    if language == "en":
        return {"column_prefix": header.split(".")[0] + "."}
    if language == "de":
        return {"column_prefix": header[: header.index("[") + 1 + min(len(text), 20)].rstrip()}
    return {"column": header}


def _respondents(rng: random.Random, n: int, language: str, wave: str) -> list[Respondent]:
    li = LANGUAGE_INDEX[language]
    people = []
    for row in range(1, n + 1):
        traits = {c: rng.gauss(0, 1) for c in CONSTRUCTS}
        answers: dict[str, int | None] = {}
        for code, construct, reverse, *_ in ITEMS:
            mean, loading = LATENT[construct]
            x = round(3 + mean + WAVE_SHIFT[wave] + loading * traits[construct] + rng.gauss(0, 0.7))
            x = min(5, max(1, x))
            answers[code] = 6 - x if reverse else x
            if rng.random() < 0.06:
                answers[code] = None
        gender = rng.choices(list(GENDERS), weights=[48, 44, 3, 5])[0]
        gender_raw = GENDERS[gender][li]
        if rng.random() < 0.02:
            gender, gender_raw = None, rng.choice(SELF_DESCRIBED)  # no codebook maps these
        people.append(
            Respondent(
                row=row,
                token=None if language == "es" else "".join(rng.choices(string.ascii_letters + string.digits, k=15)),
                consent=rng.random() > 0.04,
                gender=gender,
                gender_raw=gender_raw,
                age_band=rng.choices(list(AGE_BANDS), weights=[12, 22, 22, 18, 15, 11])[0],
                country=rng.choices(
                    list(COUNTRIES), weights=[30, 25, 12, 10, 13, 10] if li else [15, 10, 10, 35, 20, 10]
                )[0],
                project=rng.choice(list(PROJECTS)),
                answers=answers,
                remark=rng.choice(REMARKS[li]) if rng.random() < 0.15 else None,
            )
        )
    for person in rng.sample(people, 2):  # answers a careless export lets through: off the 1-5 scale
        person.answers[rng.choice([c for c, *_ in ITEMS])] = rng.choice([0, 7, 9])
    return people


def _codebook(survey: str, wave: str, language: str) -> dict:
    li = LANGUAGE_INDEX[language]
    h = HEADERS[language]

    def ref(key: str) -> dict:
        """A long question header by its start (as analysts write codebooks), a short one by name."""
        header = h[key]
        return {"column_prefix": header[:30].rstrip()} if len(header) > 30 else {"column": header}

    def options(vocab):
        return {names[li]: code for code, names in vocab.items()}

    book = {
        "survey": survey,
        "wave": wave,
        "title": f"CS Track participants' survey {wave} ({language.upper()}), synthetic",
        "format": FORMAT_OF[language],
        "respondent_id": h["id"],
        "submitted_at": {**ref("submitted"), "parse": "datetime"},
        "consent": {**ref("consent"), "required": h["yes"]},
        "context": {"language": {"value": language}},
        "demographics": {
            "gender": {**ref("gender"), "map": options(GENDERS)},
            "age_band": {**ref("age"), "map": options(AGE_BANDS)},
            "country": {**ref("country"), "map": options(COUNTRIES)},
            "project": {**ref("project"), "map": options(PROJECTS)},
        },
        "scales": {"agree5": {"min": 1, "max": 5}},
        "items": {},
        "constructs": {name: {"label": text, "min_share_answered": 0.5} for name, text in CONSTRUCTS.items()},
        "free_text": [ref("remarks")],
    }
    if FORMAT_OF[language] == "xlsx":
        book["sheet"] = 0
    for code, construct, reverse, *texts in ITEMS:
        rule = {**codebook_prefix(language, code, texts[li]), "scale": "agree5", "construct": construct}
        if reverse:
            rule["reverse"] = True
        book["items"][code] = rule
    return book


def _table(people: list[Respondent], language: str, wave: str, rng: random.Random) -> tuple[list[str], list[list]]:
    li = LANGUAGE_INDEX[language]
    h = HEADERS[language]
    header = ([h["id"]] if h["id"] else []) + [
        h["submitted"],
        h["consent"],
        h["gender"],
        h["age"],
        h["country"],
        h["project"],
    ]
    header += [item_header(language, code, texts[li]) for code, _, _, *texts in ITEMS] + [h["remarks"]]
    start = datetime(int(wave), 4, 1, 9, 0)
    rows = []
    for p in people:
        submitted = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 60))
        row = ([p.token] if h["id"] else []) + [
            submitted.strftime("%Y-%m-%d %H:%M:%S"),
            h["yes"] if p.consent else h["no"],
            p.gender_raw,
            AGE_BANDS[p.age_band][li],
            COUNTRIES[p.country][li],
            PROJECTS[p.project][li],
        ]
        row += [p.answers[code] for code, *_ in ITEMS] + [p.remark or ""]
        rows.append(row)
    return header, rows


def _write(path: Path, language: str, header: list[str], rows: list[list]) -> None:
    fmt = FORMAT_OF[language]
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows([["" if v is None else v for v in row] for row in rows])
    elif fmt == "xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "Responses"
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        book.save(path)
    else:
        import pandas as pd
        import pyreadstat

        frame = pd.DataFrame(rows, columns=header)
        items = [c for c in header if c[:3] in ("MOT", "LRN")]
        for column in items:
            frame[column] = frame[column].astype("float64")
        labels = {c: SAV_LABELS.get(c) for c in header}
        for code, _, _, *texts in ITEMS:
            question = QUESTION["es"][0 if code.startswith("MOT") else 1]
            labels[item_header("es", code, texts[2])] = f"{question} [{texts[2]}]"
        likert = {1: "Muy en desacuerdo", 2: "En desacuerdo", 3: "Neutral", 4: "De acuerdo", 5: "Muy de acuerdo"}
        pyreadstat.write_sav(
            frame,
            str(path),
            column_labels=[labels[c] for c in header],
            variable_value_labels={c: likert for c in items},
        )


def generate_survey(
    data_dir: Path,
    codebook_dir: Path,
    survey: str = "participants",
    waves: dict[str, dict[str, int]] | None = None,
    seed: int = 2021,
) -> list[SurveyFile]:
    """Write one export and one codebook per language and wave; `waves` = {wave: {language: respondents}}."""
    waves = waves or {"2021": {"en": 110, "de": 100, "es": 90}, "2022": {"en": 120, "de": 100, "es": 95}}
    data_dir, codebook_dir = Path(data_dir), Path(codebook_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    codebook_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    files = []
    for wave, sizes in waves.items():
        for language, n in sizes.items():
            name = f"{survey}_{wave}_{language}"
            people = _respondents(rng, n, language, wave)
            header, rows = _table(people, language, wave, rng)
            data_path = data_dir / f"{name}.{FORMAT_OF[language]}"
            _write(data_path, language, header, rows)
            codebook_path = codebook_dir / f"{name}.yml"
            text = yaml.safe_dump(_codebook(survey, wave, language), sort_keys=False, allow_unicode=True, width=200)
            codebook_path.write_text(
                f"# Generated by cstrack.demo.generate.survey (synthetic data, seed {seed}).\n{text}", encoding="utf-8"
            )
            files.append(SurveyFile(survey, wave, language, data_path, codebook_path, people))
    return files


def main() -> None:
    from cstrack import config

    project = config.project_dir()
    files = generate_survey(project / "data" / "sample" / "surveys", project / "surveys")
    for f in files:
        print(
            f"{f.data_path.relative_to(project)}: {len(f.respondents)}"
            f" respondents ({f.codebook_path.relative_to(project)})"
        )


if __name__ == "__main__":
    main()
