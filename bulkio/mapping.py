"""Match a file's column headers to an object's fields and relationships.

People import sheets bulkio wrote (``Stage* ($stage)``) and sheets they made themselves
(``First Name``, ``E-mail``, ``City``). :func:`map_headers` tries, for each header, in order:

1. an explicit mapping (header -> key, a dict or a file read by :func:`load_mapping_file`);
2. bulkio's own ``Label (key)`` header format;
3. the exact key (``$stage``, ``external_id``), the exact label, the key without ``$``;
4. a case-, space- and punctuation-insensitive match of the label or key, including part names of
   ADDRESS/FULL_NAME fields (``first name`` -> ``$name.firstName``, ``City`` ->
   ``$primaryAddress.city``), ``Record ID``/``id`` -> the record ID — only when exactly one
   column matches.

Display columns (``Account name ($account#name)``) are recognised and ignored silently; read-only
fields and reverse links are ignored with a ``read_only_column`` warning. A header that matches
nothing is an ``unknown_column`` **warning** (the column is ignored and the run continues; a typo
in an optional column should not block an import) with did-you-mean suggestions. Two columns for
the same key are a ``duplicate_header`` error (the first one wins).
"""

from __future__ import annotations

import csv
import difflib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .columns import (
    ERRORS_COLUMN,
    ID_KEY,
    RESULT_COLUMNS,
    SPLIT_TYPES,
    Column,
    export_columns,
    header_text,
    key_from_header,
)
from .definitions import ObjectSchema
from .errors import ConfigError, InputFileError
from .issues import Issue
from .read import column_letter

#: Column kinds whose cells are imported.
IMPORT_KINDS = frozenset({"id", "field", "subfield", "relationship"})
#: Did-you-mean suggestions are computed for this many unknown columns (difflib is slow on
#: files with thousands of junk columns).
MAX_SUGGESTIONS = 200
_ID_ALIASES = ("recordid", "id", "lightfieldid", "recordidid")
_NON_ALNUM = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class MappedColumn:
    """One column of the file: position, header, and the :class:`Column` it maps to (None when
    ignored). ``how`` says which rule matched: mapping, header, key, label, slug or fuzzy."""

    index: int
    letter: str
    header: str
    column: Column | None
    how: str | None = None

    @property
    def key(self) -> str | None:
        return self.column.key if self.column else None

    @property
    def importable(self) -> bool:
        return self.column is not None and self.column.kind in IMPORT_KINDS


@dataclass
class HeaderMap:
    """The result of :func:`map_headers`. ``by_key`` holds the importable columns (fields,
    sub-fields, relationships and ``id``) by key, first occurrence only."""

    columns: list[MappedColumn]
    issues: list[Issue] = field(default_factory=list)
    by_key: dict[str, MappedColumn] = field(default_factory=dict)
    key_field: str = "external_id"
    #: key → a column a mapping file marked ``fallback``: it feeds the key only on rows where the
    #: column in ``by_key`` is blank (Pipedrive's ``Deal - Stage`` behind ``Deal - Status``).
    fallbacks: dict[str, MappedColumn] = field(default_factory=dict)
    #: key → more columns whose values are added to a field that takes several (a hand-kept sheet's
    #: ``Telefon`` and ``Mobil``, both phone): joined into the field's own column, row by row.
    joins: dict[str, list[MappedColumn]] = field(default_factory=dict)

    @property
    def importable(self) -> list[MappedColumn]:
        return [c for c in self.columns if c.importable and self.by_key.get(c.key or "") is c]

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)


letter = column_letter

#: Header synonyms per object and field: the names other CRMs and hand-made sheets use (HubSpot,
#: Salesforce labels and API names, Close, Pipedrive after its ``Deal - `` prefix). Matched like labels
#: (case, space and punctuation ignored), after the object's own keys and labels, and only when
#: exactly one field claims the header; a field this org does not have is skipped.
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "opportunity": {
        "$name": (
            "deal name",
            "dealname",
            "deal title",
            "title",
            "opportunity name",
            "deal",
            "opportunity",
            "topic",  # Dynamics 365
        ),
        "$stage": (
            "deal stage",
            "dealstage",
            "stage name",
            "stagename",
            "pipeline stage",
            "sales stage",
            "stage (pipeline)",
            "status label",
            "status_label",
            "opportunity stage",
        ),
        "amount": (
            "value",
            "deal value",
            "deal amount",
            "opportunity amount",
            "amount in company currency",
            "total value",
            "price",
            "annual contract value",
            "value_formatted",
            "est. revenue",  # Dynamics 365
            "estimated revenue",
        ),
        "probability": (
            "deal probability",
            "hs_deal_stage_probability",
            "probability (%)",
            "confidence",
            "win probability",
            "win likelihood",
            "likelihood",
        ),
        "closeDate": (
            "close date",
            "closedate",
            "expected close date",
            "expected_close_date",
            "closing date",
            "estimated close date",
            "target close date",
            "close",
            "est. close date",  # Dynamics 365
        ),
        "$owner": (
            "deal owner",
            "opportunity owner",
            "owner name",
            "owner email",
            "hubspot owner",
            "hubspot_owner_id",
            "assigned to",
            "sales rep",
            "salesperson",
            "user name",
            "user_name",
            "user email",
            "ownerid",
            "owner id",
        ),
        "$account": (
            "account name",
            "accountname",
            "accountid",
            "company",
            "company name",
            "associated company",
            "organization",
            "organisation",
            "organization name",
            "org name",
            "lead name",
            "lead_name",
            "customer",
            "potential customer",  # Dynamics 365
        ),
        "nextStep": ("next step", "nextstep", "next action"),
        "source": ("lead source", "leadsource", "deal source", "original source", "source channel"),
    },
    "account": {
        "$name": (
            "company name",
            "company",
            "account name",
            "organization name",
            "organization",
            "organisation",
            "name",
            "display name",
            "display_name",
            "lead name",
            "lead_name",
        ),
        "$website": (
            "website",
            "website url",
            "company domain name",
            "domain",
            "url",
            "web site",
            "homepage",
        ),
        "$industry": ("industry", "sector"),
        "employeeCount": (
            "number of employees",
            "numberofemployees",
            "employees",
            "employee count",
            "# employees",  # Apollo.io
        ),
        "annualRevenue": ("annual revenue", "annualrevenue", "revenue"),
        "phone": ("phone", "phone number", "company phone", "main phone", "telephone"),
        "$owner": ("company owner", "account owner", "organization owner", "owner", "ownerid", "lead owner"),
        "$primaryAddress.street": (
            "street address",
            "street",
            "billing street",
            "billingstreet",
            "address",
            "address line 1",
            "address 1",
            "address 1: street 1",  # Dynamics 365
        ),
        "$primaryAddress.city": ("city", "billing city", "billingcity", "town", "address 1: city"),
        "$primaryAddress.state": (
            "state/region",
            "state",
            "billing state/province",
            "billingstate",
            "region",
            "province",
            "address 1: state/province",
        ),
        "$primaryAddress.postalCode": (
            "postal code",
            "zip",
            "zip code",
            "billing zip/postal code",
            "billingpostalcode",
            "zipcode",
            "zip/postal code",
            "address 1: zip/postal code",
            "billing code",  # Zoho CRM
        ),
        "$primaryAddress.country": (
            "country/region",
            "country",
            "billing country",
            "billingcountry",
            "address 1: country/region",
        ),
        "$linkedIn": ("linkedin company page", "linkedin", "linkedin url", "company linkedin url"),
        "$twitter": ("twitter handle", "twitter"),
        "billingEmail": ("billing email", "invoice email"),
    },
    "contact": {
        "$name.firstName": (
            "first name",
            "firstname",
            "given name",
            "first_name",
            "primary_contact_first_name",
        ),
        "$name.lastName": (
            "last name",
            "lastname",
            "surname",
            "family name",
            "last_name",
            "primary_contact_last_name",
        ),
        "$name": ("full name", "contact name", "person name", "name", "primary_contact_name"),
        "$email": (
            "email",
            "email address",
            "e-mail",
            "primary email",
            "work email",
            "primary_email",
            "primary_contact_primary_email",
            "emails",
        ),
        "phone": (
            "phone",
            "phone number",
            "mobile",
            "mobile phone",
            "mobile phone number",
            "primary phone",
            "work phone",
            "primary_phone",
            "primary_contact_primary_phone",
            "phones",
            "business phone",  # Dynamics 365
            "work direct phone",  # Apollo.io
            "direct phone",
        ),
        "jobTitle": ("job title", "jobtitle", "title", "position", "role", "primary_contact_title"),
        "$account": (
            "company",
            "company name",
            "account",
            "account name",
            "accountid",
            "organization",
            "organization name",
            "organisation",
            "associated company",
            "lead name",
            "lead_name",
            "lead_display_name",
        ),
        "linkedin": ("linkedin", "linkedin url", "linkedin profile", "person linkedin url"),
        "leadSource": ("lead source", "leadsource", "original source", "source"),
        "lastContactedAt": ("last contacted", "last activity date", "last contacted at"),
        "doNotContact": ("do not contact", "unsubscribed", "email opt out", "hasoptedoutofemail"),
    },
}


#: Headers of sheets kept by hand in German, French and Spanish (the words Excel users there type;
#: ``Firma``, ``Ansprechpartner``, ``Société``, ``Téléphone``, ``Empresa``). Merged into SYNONYMS,
#: so they match only where exactly one field claims them, after the object's own labels.
LOCALE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "opportunity": {
        "$name": (
            "verkaufschance",
            "chance",
            "projekt",
            "vorgang",
            "bezeichnung",
            "opportunité",
            "affaire",
            "nom de l'affaire",
            "nom de l'opportunité",
            "oportunidad",
            "negocio",
            "nombre de la oportunidad",
        ),
        "$stage": ("phase", "verkaufsphase", "stufe", "étape", "étape de vente", "etapa", "fase"),
        "amount": (
            "betrag",
            "wert",
            "auftragswert",
            "volumen",
            "summe",
            "montant",
            "valeur",
            "importe",
            "monto",
            "valor",
        ),
        "probability": (
            "wahrscheinlichkeit",
            "abschlusswahrscheinlichkeit",
            "probabilité",
            "probabilidad",
        ),
        "closeDate": (
            "abschlussdatum",
            "abschluss",
            "voraussichtlicher abschluss",
            "date de clôture",
            "date de clôture prévue",
            "clôture",
            "fecha de cierre",
            "fecha de cierre prevista",
        ),
        "$owner": (
            "verantwortlich",
            "verantwortlicher",
            "betreuer",
            "zuständig",
            "vertriebsmitarbeiter",
            "responsable",
            "commercial",
            "propriétaire",
            "propietario",
            "vendedor",
            "comercial",
        ),
        "$account": (
            "firma",
            "firmenname",
            "unternehmen",
            "kunde",
            "kundenname",
            "konto",
            "société",
            "entreprise",
            "compte",
            "client",
            "empresa",
            "compañía",
            "cuenta",
            "cliente",
        ),
        "nextStep": ("nächster schritt", "prochaine étape", "próximo paso", "siguiente paso"),
        "source": ("quelle", "herkunft", "lead-quelle", "origine", "provenance", "origen", "fuente"),
        "external_id": ("nr.", "nummer", "vorgangsnummer", "numéro", "référence", "número", "referencia"),
    },
    "account": {
        "$name": (
            "firma",
            "firmenname",
            "unternehmen",
            "kunde",
            "kundenname",
            "société",
            "entreprise",
            "raison sociale",
            "nom de la société",
            "nom de l'entreprise",
            "empresa",
            "nombre de la empresa",
            "razón social",
            "compañía",
        ),
        "$website": (
            "webseite",
            "internetseite",
            "internet",
            "site web",
            "site internet",
            "sitio web",
            "página web",
        ),
        "$industry": ("branche", "industrie", "secteur", "secteur d'activité", "industria"),
        "employeeCount": (
            "mitarbeiter",
            "anzahl mitarbeiter",
            "mitarbeiterzahl",
            "beschäftigte",
            "effectif",
            "nombre d'employés",
            "salariés",
            "empleados",
            "número de empleados",
        ),
        "annualRevenue": ("umsatz", "jahresumsatz", "chiffre d'affaires", "facturación", "ingresos"),
        "phone": ("telefon", "telefonnummer", "tel.", "téléphone", "tél.", "teléfono"),
        "$owner": (
            "betreuer",
            "kundenbetreuer",
            "verantwortlich",
            "zuständig",
            "responsable",
            "commercial",
            "propriétaire",
            "propietario",
            "vendedor",
            "comercial",
        ),
        "$primaryAddress.street": (
            "straße",
            "strasse",
            "str.",
            "anschrift",
            "adresse",
            "rue",
            "dirección",
            "calle",
        ),
        "$primaryAddress.city": ("ort", "stadt", "ville", "localité", "ciudad", "localidad", "población"),
        "$primaryAddress.state": ("bundesland", "kanton", "département", "provincia"),
        "$primaryAddress.postalCode": ("plz", "postleitzahl", "code postal", "cp", "código postal"),
        "$primaryAddress.country": ("land", "pays", "país"),
        "external_id": (
            "kundennummer",
            "kunden-nr.",
            "kd.-nr.",
            "kdnr",
            "nr.",
            "nummer",
            "numéro client",
            "n° client",
            "numéro",
            "référence",
            "número de cliente",
            "número",
        ),
    },
    "contact": {
        "$name.firstName": ("vorname", "prénom", "nombre"),
        "$name.lastName": ("nachname", "familienname", "nom", "nom de famille", "apellido", "apellidos"),
        "$name": (
            "ansprechpartner",
            "kontaktperson",
            "kontakt",
            "name, vorname",
            "interlocuteur",
            "nom complet",
            "contact",
            "contacto",
            "nombre completo",
        ),
        "$email": (
            "e-mail-adresse",
            "mail",
            "emailadresse",
            "courriel",
            "adresse e-mail",
            "adresse mail",
            "correo",
            "correo electrónico",
        ),
        "phone": (
            "telefon",
            "telefonnummer",
            "tel.",
            "handy",
            "mobil",
            "mobiltelefon",
            "mobilnummer",
            "téléphone",
            "tél.",
            "portable",
            "téléphone portable",
            "teléfono",
            "móvil",
            "celular",
        ),
        "jobTitle": ("funktion", "berufsbezeichnung", "fonction", "poste", "titre", "cargo", "puesto"),
        "$account": (
            "firma",
            "firmenname",
            "unternehmen",
            "kunde",
            "société",
            "entreprise",
            "compte",
            "empresa",
            "compañía",
            "cuenta",
        ),
        "lastContactedAt": (
            "letzter kontakt",
            "zuletzt kontaktiert",
            "date du dernier contact",
            "dernier contact",
            "último contacto",
            "fecha del último contacto",
        ),
        "external_id": ("kontaktnummer", "nr.", "nummer", "numéro", "référence", "número"),
    },
}
#: Headers of sheets kept by hand in Italian, Dutch, Polish and Swedish, and the customer exports of their
#: accounting software (``Ragione sociale``, ``Partita IVA``, ``Bedrijfsnaam``, ``Nazwa firmy``,
#: ``Företagsnamn``; found in public importers of such files: see tests/data/realistic/README.md).
MORE_LOCALE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "account": {
        "$name": (
            "ragione sociale",
            "denominazione",
            "azienda",
            "bedrijfsnaam",
            "bedrijf",
            "organisatie",
            "nazwa firmy",
            "nazwa",
            "firma",
            "företagsnamn",
            "företag",
            "kund",
        ),
        "$website": (
            "sito web",
            "sito",
            "website",
            "strona www",
            "strona internetowa",
            "webbplats",
            "hemsida",
        ),
        "$industry": ("settore", "branża", "bransch"),
        "employeeCount": (
            "dipendenti",
            "numero dipendenti",
            "addetti",
            "medewerkers",
            "aantal medewerkers",
            "liczba pracowników",
            "pracownicy",
            "anställda",
            "antal anställda",
        ),
        "annualRevenue": ("fatturato", "omzet", "jaaromzet", "przychód", "przychody", "obroty", "omsättning"),
        "phone": ("telefono", "telefoon", "telefoonnummer", "telefon", "telefonnummer"),
        "$owner": (
            "agente",
            "commerciale",
            "responsabile",
            "accountmanager",
            "eigenaar",
            "opiekun",
            "handlowiec",
            "ansvarig",
            "säljare",
            "kundansvarig",
        ),
        "$primaryAddress.street": (
            "indirizzo",
            "via",
            "adres",
            "straat",
            "straatnaam",
            "ulica",
            "adress",
            "gatuadress",
            "besöksadress",
        ),
        "$primaryAddress.city": (
            "comune",
            "città",
            "località",
            "plaats",
            "woonplaats",
            "miasto",
            "ort",
            "stad",
        ),
        "$primaryAddress.state": ("provincia", "regione", "provincie", "województwo", "län"),
        "$primaryAddress.postalCode": ("cap", "postcode", "kod pocztowy", "kod", "postnummer", "postnr"),
        "$primaryAddress.country": ("paese", "nazione", "stato", "land", "kraj"),
        "isCustomer": ("cliente attivo", "actieve klant", "klant", "aktywny klient", "klient", "aktiv kund"),
        "external_id": (
            "codice cliente",
            "codice",
            "klantnummer",
            "relatienummer",
            "numer klienta",
            "kundnummer",
            "kundnr",
        ),
    },
    "contact": {
        "$name.firstName": ("nome", "voornaam", "imię", "imie", "förnamn"),
        "$name.lastName": ("cognome", "achternaam", "nazwisko", "efternamn"),
        "$name": (
            "referente",
            "contatto",
            "naam",
            "contactpersoon",
            "osoba kontaktowa",
            "kontaktperson",
            "namn",
        ),
        "$email": ("e-mail", "e-mailadres", "indirizzo email", "adres e-mail", "e-post", "epost", "mejl"),
        "phone": (
            "telefono",
            "cellulare",
            "telefoon",
            "telefoonnummer",
            "mobiel",
            "mobiele telefoon",
            "telefon",
            "komórka",
            "telefon komórkowy",
            "mobil",
            "mobiltelefon",
            "mobilnummer",
        ),
        "jobTitle": ("ruolo", "qualifica", "functie", "stanowisko", "titel", "befattning", "roll"),
        "$account": (
            "azienda",
            "ragione sociale",
            "bedrijfsnaam",
            "bedrijf",
            "organisatie",
            "nazwa firmy",
            "firma",
            "företag",
            "företagsnamn",
        ),
        "lastContactedAt": (
            "ultimo contatto",
            "laatste contact",
            "ostatni kontakt",
            "senast kontaktad",
            "senaste kontakt",
        ),
        "external_id": ("codice", "klantnummer", "relatienummer", "numer", "kundnummer", "kontaktnummer"),
    },
    "opportunity": {
        "$name": (
            "opportunità",
            "trattativa",
            "kans",
            "verkoopkans",
            "szansa sprzedaży",
            "affär",
            "affärsmöjlighet",
        ),
        "$stage": ("fase", "stadio", "stap", "etap", "steg"),
        "amount": ("importo", "valore", "bedrag", "waarde", "kwota", "wartość", "belopp", "värde"),
        "probability": ("probabilità", "kans (%)", "prawdopodobieństwo", "sannolikhet"),
        "closeDate": ("data chiusura", "sluitingsdatum", "data zamknięcia", "stängningsdatum", "slutdatum"),
        "$owner": ("agente", "commerciale", "eigenaar", "opiekun", "handlowiec", "ansvarig", "säljare"),
        "$account": ("azienda", "cliente", "bedrijf", "klant", "firma", "klient", "företag", "kund"),
    },
}
for _obj, _fields in MORE_LOCALE_SYNONYMS.items():
    for _key, _words in _fields.items():
        LOCALE_SYNONYMS.setdefault(_obj, {})[_key] = (*LOCALE_SYNONYMS.get(_obj, {}).get(_key, ()), *_words)
for _obj, _fields in LOCALE_SYNONYMS.items():
    for _key, _words in _fields.items():
        SYNONYMS.setdefault(_obj, {})[_key] = (*SYNONYMS.get(_obj, {}).get(_key, ()), *_words)


def _norm(text: str) -> str:
    return _NON_ALNUM.sub("", text.casefold())


# --- candidate columns -------------------------------------------------------------------------


@dataclass(slots=True)
class _Catalog:
    by_key: dict[str, Column]
    exact_label: dict[str, list[Column]]
    fuzzy: dict[str, list[Column]]
    synonyms: dict[str, list[Column]] = field(default_factory=dict)
    #: object type of each relationship key (for vendor prefixes naming a related object)
    related: dict[str, str] = field(default_factory=dict)
    object_type: str = ""


def _add(index: dict[str, list[Column]], alias: str, col: Column) -> None:
    if not alias:
        return
    bucket = index.setdefault(alias, [])
    if all(c.key != col.key for c in bucket):
        bucket.append(col)


def _catalog(schema: ObjectSchema, key_field: str) -> _Catalog:
    cols = list(export_columns(schema, key_field=key_field))
    # whole ADDRESS/FULL_NAME fields ("Name" for a contact) and read-only reverse links
    for f in schema.fields.values():
        if f.value_type in SPLIT_TYPES and not f.read_only:
            cols.append(
                Column(
                    f.key,
                    header_text(f.label, f.key),
                    f.label,
                    "field",
                    f.key,
                    None,
                    f.value_type,
                    f.key in schema.required,
                    False,
                )
            )
    for r in schema.relationships.values():
        if r.read_only:
            cols.append(
                Column(r.key, header_text(r.label, r.key, read_only=True), r.label, "readonly", r.key)
            )
    by_key: dict[str, Column] = {}
    for c in cols:
        by_key.setdefault(c.key, c)
    exact: dict[str, list[Column]] = {}
    fuzzy: dict[str, list[Column]] = {}
    obj = schema.object_type
    for c in by_key.values():
        if c.kind == "display":
            continue  # only matched by its bulkio header or exact key
        _add(exact, c.label, c)
        names = [c.key, c.key.lstrip("$"), c.label]
        if c.kind == "id":
            names += list(_ID_ALIASES)
        if c.kind == "subfield" and c.field_key and c.part:
            parent = schema.fields[c.field_key]
            part_label = dict(SPLIT_TYPES[parent.value_type])[c.part]
            words = parent.label.split()
            names += [
                c.part,
                part_label,
                f"{parent.label} {part_label}",
                f"{words[-1] if words else ''} {part_label}",
                f"{parent.key} {c.part}",
            ]
        if c.kind == "relationship":
            names += [f"{c.label} name", f"{c.label} id", f"{c.key} id"]
        if c.kind in ("field", "subfield"):
            names += [f"{obj} {n}" for n in (c.label, c.key.lstrip("$"))]
        for n in names:
            _add(fuzzy, _norm(n), c)
    synonyms: dict[str, list[Column]] = {}
    for key, synonym_words in SYNONYMS.get(obj, {}).items():
        col = by_key.get(key)
        if col is None or col.kind not in IMPORT_KINDS:
            continue  # this org's object has no such field
        for w in synonym_words:
            _add(synonyms, _norm(w), col)
    related = {r.key: r.object_type for r in schema.relationships.values() if not r.read_only}
    return _Catalog(by_key, exact, fuzzy, synonyms, related, obj)


def _match(header: str, cat: _Catalog) -> tuple[Column | None, str | None, list[Column]]:
    """(column, rule, ambiguous candidates) for one header."""
    h = header.strip()
    key = key_from_header(h)
    if key and key in cat.by_key:
        return cat.by_key[key], "header", []
    if h in cat.by_key:
        return cat.by_key[h], "key", []
    label = h.rstrip("*").strip()
    hits = cat.exact_label.get(label, [])
    if len(hits) == 1:
        return hits[0], "label", []
    slug = "$" + h
    if slug in cat.by_key and cat.by_key[slug].kind != "display":
        return cat.by_key[slug], "slug", []
    # the label part of a foreign bulkio header ("Stage* ($stage_old)") still counts fuzzily
    text = h[: h.rfind("(")] if key else h
    hits = cat.fuzzy.get(_norm(text.replace("[read-only]", "")), [])
    if len(hits) == 1:
        return hits[0], "fuzzy", []
    found = _synonym(h, cat)
    if found is not None:
        return found, "synonym", []
    m = _CUSTOM_FIELD.match(h)
    if m is not None:  # another CRM's custom field named like one of ours: custom.Industry, Tier__c
        inner = m.group(1) or m.group(2)
        col, how, _amb = _match(inner.replace("_", " "), cat)
        if col is not None:
            return col, how, []
        # Close writes a user or contact custom field as two columns, ``custom.Lead Owner.id`` (Close's
        # user_… id, which nothing here has) and ``custom.Lead Owner.name``: the name is the reference
        named = _REFERENCE_NAME.match(inner)
        if named is not None:
            col, how, _amb = _match(named.group(1).replace("_", " "), cat)
            if col is not None and col.kind == "relationship":
                return col, how, []
    return None, None, hits


#: Custom fields in other CRMs' exports: Close's ``custom.Industry``, Salesforce's ``Renewal_Date__c``.
_CUSTOM_FIELD = re.compile(r"^\s*custom\.\s*(.+)$|^\s*(\w+?)__c\s*$", re.IGNORECASE)
#: ``Lead Owner.name``: the name column of a custom field that references a user or a contact.
_REFERENCE_NAME = re.compile(r"^(.+?)\.name$", re.IGNORECASE)
#: ``Deal - Title``, ``Organization - Name``, ``Person - Email (Work)``: Pipedrive's ``Entity - Field``
#: headers (other tools write ``Deal: Title`` or ``Deal.Title``).
_VENDOR_PREFIX = re.compile(r"^\s*([A-Za-z][A-Za-z ]{1,30}?)\s*(?:\s-\s|:\s|\.)\s*(.+)$")
#: What a prefix can name: the object itself, or the object of a relationship.
_PREFIX_OBJECTS = {
    "deal": "opportunity",
    "opportunity": "opportunity",
    "company": "account",
    "account": "account",
    "organization": "account",
    "organisation": "account",
    "org": "account",
    "lead": "account",
    "person": "contact",
    "contact": "contact",
    "people": "contact",
    "owner": "member",
    "user": "member",
}
#: Fields of a related object that stand for the reference itself (``Organization - Name``).
_REFERENCE_PARTS = frozenset({"name", "title", "id", "email", "pipedrivesystemid", "recordid"})
_QUALIFIER = re.compile(r"\s*\((?:work|home|mobile|other|main|primary|pipeline)\)\s*$", re.IGNORECASE)


def _synonym(header: str, cat: _Catalog) -> Column | None:
    """A header from the synonym table, also behind a vendor prefix naming the object
    (``Deal - Value`` → amount) or a related one (``Organization - Name`` → $account)."""
    obj = cat.object_type
    for text in (header, _QUALIFIER.sub("", header)):
        hits = cat.synonyms.get(_norm(text), []) or cat.fuzzy.get(_norm(text), [])
        if len(hits) == 1:
            return hits[0]
        m = _VENDOR_PREFIX.match(text)
        if not m:
            continue
        prefix, rest = _norm(m.group(1)), m.group(2)
        target = _PREFIX_OBJECTS.get(prefix)
        if target is None:
            continue
        if target == obj:
            col, _how, _amb = _match(rest, cat)
            if col is not None:
                return col
            continue
        if _norm(_QUALIFIER.sub("", rest)) in _REFERENCE_PARTS:
            rels = [cat.by_key[k] for k, t in cat.related.items() if t == target and k in cat.by_key]
            if len(rels) == 1:
                return rels[0]
            owner = [c for c in rels if c.key == "$owner"]
            if target == "member" and len(owner) == 1:
                return owner[0]
    return None


#: Dynamics 365's Export to Excel: hidden columns that tell Dynamics which record a row is when the sheet
#: goes back in, ``(Do Not Modify) Account`` (the record's GUID), ``(Do Not Modify) Row Checksum`` and
#: ``(Do Not Modify) Modified On``.
_DO_NOT_MODIFY = re.compile(r"^\s*\(\s*do\s+not\s+modify\s*\)\s*(.*)$", re.IGNORECASE)


def _internal(header: str, cat: _Catalog, key_field: str) -> tuple[Column | None, str, list[Column]] | None:
    """A tool's own column: Dynamics' ``(Do Not Modify) <this object>`` is the record's id in Dynamics (the
    key field: a re-import of the same export updates the same records); its other ``(Do Not Modify) …``
    columns (checksum, modified on, a related entity's id) are never imported, and not worth a warning."""
    m = _DO_NOT_MODIFY.match(header)
    if m is None:
        return None
    if _PREFIX_OBJECTS.get(_norm(m.group(1))) == cat.object_type:
        key = cat.by_key.get(key_field)
        if key is not None and key.kind in IMPORT_KINDS:
            return key, "internal-id", []
    return None, "internal", []


def _suggest(header: str, cat: _Catalog, ambiguous: list[Column]) -> str:
    if ambiguous:
        opts = ambiguous
    else:
        names = dict(cat.fuzzy)
        close = difflib.get_close_matches(_norm(header), list(names), n=6, cutoff=0.6)
        seen: dict[str, Column] = {}
        for n in close:
            for c in names[n]:
                if c.kind in IMPORT_KINDS:
                    seen.setdefault(c.key, c)
        opts = list(seen.values())[:3]
    if not opts:
        return ""
    shown = " or ".join(f'"{c.label}" ({c.key})' for c in opts)
    return f"; {'it could be' if ambiguous else 'did you mean'} {shown}?"


# --- mapping files -----------------------------------------------------------------------------


def load_mapping_file(path: str | os.PathLike[str]) -> dict[str, str | None]:
    """Read a header -> key mapping from JSON (``{"Header": "$key"}``), YAML (same shape) or a
    two-column CSV (``header,key``). A null/empty key means "ignore this column".

    >>> load_mapping_file("mapping.json")   # doctest: +SKIP
    {'Company': '$name', 'Notes': None}
    """
    p = Path(path)
    name = str(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read the mapping file ({exc})", path=name) from None
    suffix = p.suffix.lower()
    data: Any
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml  # optional; PyYAML is present wherever YAML mappings are used

            data = yaml.safe_load(text)
        elif suffix in (".csv", ".tsv", ".txt"):
            delim = "\t" if suffix == ".tsv" or ("\t" in text and "," not in text) else ","
            rows = [r for r in csv.reader(text.splitlines(), delimiter=delim) if any(x.strip() for x in r)]
            if rows and [x.strip().casefold() for x in rows[0][:2]] in (
                ["header", "key"],
                ["column", "field"],
                ["header", "field"],
            ):
                rows = rows[1:]
            if any(len(r) < 1 or len(r) > 2 for r in rows):
                raise ValueError("each row must be: header, key")
            data = {r[0].strip(): (r[1].strip() if len(r) > 1 else None) for r in rows}
        else:
            raise InputFileError("mapping files must be .json, .yaml/.yml or .csv", path=name)
    except InputFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - json/yaml/csv errors alike
        raise InputFileError(f"cannot parse the mapping file ({exc})", path=name) from None
    if isinstance(data, dict) and isinstance(data.get("columns"), dict):
        data = data["columns"]
    if isinstance(data, list):
        try:
            data = {d["header"]: d.get("key") for d in data}
        except (TypeError, KeyError):
            raise InputFileError("a mapping list must hold {header, key} objects", path=name) from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in data.items()
    ):
        raise InputFileError('expected a mapping of header -> key, e.g. {"Company": "$name"}', path=name)
    return {k: (v.strip() or None) if isinstance(v, str) else None for k, v in data.items()}


def column_for(schema: ObjectSchema, key: str, key_field: str = "external_id") -> Column | None:
    """The importable :class:`Column` for ``key`` (a field, part, relationship or ``id``)."""
    col = _catalog(schema, key_field).by_key.get(key)
    return col if col is not None and col.kind in IMPORT_KINDS else None


def importable_keys(schema: ObjectSchema, key_field: str = "external_id") -> set[str]:
    """Every key a mapping may send a column to."""
    return {k for k, c in _catalog(schema, key_field).by_key.items() if c.kind in IMPORT_KINDS}


def explicit_entry(header: str, mapping: dict[str, Any]) -> str | None:
    """The mapping's entry for ``header``: exact, stripped, or case/space/punctuation-insensitive."""
    return _explicit_entry(header, mapping)


def _explicit_entry(header: str, mapping: dict[str, Any]) -> str | None:
    """The mapping's entry (its header text) for ``header``, or None."""
    if header in mapping:
        return header
    h = header.strip()
    if h in mapping:
        return h
    n = _norm(h)
    for k in mapping:
        if _norm(k) == n:
            return k
    return None


# --- the mapper --------------------------------------------------------------------------------


def map_headers(
    headers: list[str],
    schema: ObjectSchema,
    *,
    mapping: dict[str, str | None] | None = None,
    key_field: str = "external_id",
    file: str | None = None,
    sheet: str | None = None,
    header_row: int = 1,
    warn_unused: bool = True,
    match: str | None = None,
) -> HeaderMap:
    """Map each header to a column of ``schema``; problems come back as issues, not exceptions
    (except a mapping that names a key the object does not have: :class:`ConfigError`).
    ``match`` (``--match``) says how rows without a key find their records.

    >>> hm = map_headers(["Name", "Stage", "Amount"], opportunity_schema)   # doctest: +SKIP
    >>> [c.key for c in hm.columns]
    ['$name', '$stage', 'amount']
    """
    cat = _catalog(schema, key_field)
    mapping = mapping or {}
    for k, v in mapping.items():
        if v is not None and v not in cat.by_key:
            close = difflib.get_close_matches(v, list(cat.by_key), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(
                f"the mapping sends column {k!r} to {v!r}, which is not a field or "
                f"relationship of {schema.object_type}{hint}"
            )
    result = HeaderMap(columns=[], key_field=key_field)

    def issue(code: str, message: str, idx: int, header: str, col: Column | None, **kw: Any) -> None:
        result.issues.append(
            Issue(
                code,
                message,
                file=file,
                sheet=sheet,
                row=header_row,
                column=letter(idx),
                header=header,
                field=col.key if col else None,
                **kw,
            )
        )

    suggestions_left = MAX_SUGGESTIONS
    used_entries: set[str] = set()
    fallback_entries: frozenset[str] = getattr(mapping, "fallbacks", frozenset())
    pending: list[MappedColumn] = []  # fallback columns, placed once every column is mapped
    own = _results_columns(headers)
    for idx, raw in enumerate(headers):
        header = "" if raw is None else str(raw)
        col: Column | None
        ambiguous: list[Column]
        if idx in own and (
            header.strip() != "Record ID"
            or ID_KEY in result.by_key
            or any(str(h).strip() == "Record ID" for h in headers[:idx] if h is not None)
        ):
            # bulkio's own columns of a results sheet or errors file: not data, no warning (its
            # Record ID column matches records when the input had none of its own; HubSpot's
            # exports have a "Record ID" of their own, which keeps its mapping)
            result.columns.append(MappedColumn(idx, letter(idx), header, None, "results"))
            continue
        entry = _explicit_entry(header, mapping)
        found, target = entry is not None, mapping.get(entry) if entry is not None else None
        if entry is not None:
            used_entries.add(entry)
        if found:
            col, how, ambiguous = (cat.by_key[target] if target else None), "mapping", []
            if col is not None and entry in fallback_entries and col.kind in IMPORT_KINDS:
                pending.append(MappedColumn(idx, letter(idx), header, col, how))
                result.columns.append(MappedColumn(idx, letter(idx), header, None, "fallback"))
                continue
        elif not header.strip():
            col, how, ambiguous = None, None, []
        else:
            col, how, ambiguous = _internal(header, cat, key_field) or _match(header, cat)
        if col is None:
            result.columns.append(MappedColumn(idx, letter(idx), header, None, how))
            if not found and header.strip() and how != "internal":
                hint = ""
                if ambiguous or suggestions_left > 0:
                    suggestions_left -= 1
                    hint = _suggest(header, cat, ambiguous)
                issue(
                    "unknown_column",
                    f'column "{header.strip()}" does not match any field or '
                    f"relationship of {schema.object_type}; it is ignored" + hint,
                    idx,
                    header,
                    None,
                    expected="a field label or key (see the template)",
                    severity="warning",
                )
            continue
        if col.kind == "readonly":
            if header.strip().endswith("[read-only]"):
                pass  # bulkio's own export column, marked read-only in its header: no news
            else:
                issue(
                    "read_only_column",
                    f'"{col.label}" ({col.key}) is read-only; the column is ignored',
                    idx,
                    header,
                    col,
                    severity="warning",
                )
        elif col.kind in IMPORT_KINDS:
            first = result.by_key.get(col.key)
            fdef = schema.fields.get(col.field_key or col.key) if col.field_key or col.key else None
            several = fdef is not None and fdef.multiple and col.key == fdef.key
            if first is not None and several and {"synonym", "mapping"} & {how, first.how}:
                # Telefon and Mobil, Email and E-Mail 2 (or two columns a mapping file sends there): a
                # field that takes several values takes both; the same header twice stays an error
                result.joins.setdefault(col.key, []).append(MappedColumn(idx, letter(idx), header, col, how))
                result.columns.append(MappedColumn(idx, letter(idx), header, None, "joined"))
                issue(
                    "joined_column",
                    f'column "{header.strip()}" also reads as {col.key}: its values are added to those '
                    f'of column {first.letter} "{first.header.strip()}"',
                    idx,
                    header,
                    col,
                    severity="warning",
                )
                continue
            if first is not None and "synonym" in (how, first.how):
                # A synonym is a guess (HubSpot's "Amount in company currency" next to "Amount"): a
                # column named for the field wins over it, whatever the order; two guesses keep the
                # first. Either way the run goes on, with a warning naming the column left out.
                keep_new = first.how == "synonym" and how != "synonym"
                kept, dropped = (header, first) if keep_new else (first.header, None)
                left = first if keep_new else MappedColumn(idx, letter(idx), header, col, how)
                issue(
                    "duplicate_header",
                    f'column "{left.header.strip()}" also reads as {col.key}, but column '
                    f'"{str(kept).strip()}" is used for it; the column is ignored (name it in a '
                    "mapping file to use it instead)",
                    left.index,
                    left.header,
                    col,
                    expected="one column per field",
                    severity="warning",
                )
                if dropped is None:
                    result.columns.append(MappedColumn(idx, letter(idx), header, None, how))
                    continue
                result.columns[result.columns.index(dropped)] = MappedColumn(
                    dropped.index, dropped.letter, dropped.header, None, dropped.how
                )
                del result.by_key[col.key]
                first = None
            if first is not None and col.kind == "relationship" and first.index != idx:
                pair = _name_and_id(first, MappedColumn(idx, letter(idx), header, col, how))
                if pair is not None:
                    # Zoho writes every lookup as two columns, "Account Name" and "Account Name.id"
                    # (Zoho's id): the name finds the record; the id only where the name is blank
                    # (it is the external_id of a record imported from that CRM), and never for a
                    # member (another CRM's user ids match no one here)
                    named, ids = pair
                    member = cat.related.get(col.key) == "member"
                    result.by_key[col.key] = named
                    ids_how = None if member else "fallback"
                    if first is ids:
                        result.columns[result.columns.index(first)] = MappedColumn(
                            first.index, first.letter, first.header, None, ids_how
                        )
                    if not member:
                        result.fallbacks.setdefault(col.key, ids)
                    result.columns.append(
                        named if named.index == idx else MappedColumn(idx, letter(idx), header, None, ids_how)
                    )
                    issue(
                        "id_column",
                        _id_message(ids.header, named.header, member),
                        ids.index,
                        ids.header,
                        col,
                        severity="warning",
                    )
                    continue
            if first is not None:
                issue(
                    "duplicate_header",
                    f'column "{header.strip()}" maps to {col.key} like column '
                    f'{first.letter} "{first.header.strip()}"; only column {first.letter} is used',
                    idx,
                    header,
                    col,
                    expected="one column per field",
                )
                result.columns.append(MappedColumn(idx, letter(idx), header, None, how))
                continue
        mc = MappedColumn(idx, letter(idx), header, col, how)
        result.columns.append(mc)
        if col.kind in IMPORT_KINDS:
            result.by_key[col.key] = mc
    for mc in pending:
        if mc.column is None:  # pragma: no cover - pending columns always have one
            continue
        if mc.column.key in result.by_key:
            result.fallbacks.setdefault(mc.column.key, mc)
        else:  # the file has no other column for the field: this one is its column
            result.columns[
                result.columns.index(MappedColumn(mc.index, mc.letter, mc.header, None, "fallback"))
            ] = mc
            result.by_key[mc.column.key] = mc
    _id_columns_of_names(result, cat, issue)
    texts = [str(h).strip() for h in headers if h is not None and str(h).strip()]
    for entry in mapping if warn_unused else ():
        if entry in used_entries:
            continue
        close = difflib.get_close_matches(entry, texts, n=2)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        result.issues.append(
            Issue(
                "unused_mapping",
                f"the mapping names column {entry!r}, which is not in the file; the entry is unused{hint}",
                file=file,
                sheet=sheet,
                row=header_row,
                field=mapping[entry],
                expected="a header of the file",
                severity="warning",
            )
        )
    if key_field not in result.by_key and ID_KEY not in result.by_key:
        has_field = key_field in schema.fields
        key_label = schema.fields[key_field].label if has_field else key_field
        result.issues.append(
            Issue(
                "missing_key_column",
                f"no column for the upsert key {key_field}"
                + ("" if has_field else f" ({schema.object_type} has no such field)")
                + " and no Record ID column; "
                + (
                    "every row will create a new record"
                    if match is None
                    else f"a row updates the record it matches by {match} (--match), else creates one"
                ),
                file=file,
                sheet=sheet,
                row=header_row,
                field=key_field,
                expected=f"a column {header_text(key_label, key_field)} or Record ID (id)",
                severity="warning",
            )
        )
    return result


#: Zoho's id column of a lookup: ``Account Name.id`` beside ``Account Name``.
_DOT_ID = re.compile(r"^(.+?)\.id$", re.IGNORECASE)


def _id_columns_of_names(result: HeaderMap, cat: _Catalog, issue: Any) -> None:
    """``<header>.id`` columns that matched nothing, beside a ``<header>`` column read as a relationship
    (Zoho's ``Account Name.id`` / ``Account Name``): the id finds the record by its external_id on rows
    where the name is blank, instead of an ``unknown_column`` warning."""
    for pos, mc in enumerate(result.columns):
        m = _DOT_ID.match(mc.header.strip())
        if mc.column is not None or mc.how is not None or m is None:
            continue
        named = next(
            (
                n
                for n in result.by_key.values()
                if n.column is not None
                and n.column.kind == "relationship"
                and n.header.strip() == m.group(1).strip()
            ),
            None,
        )
        if named is None or named.column is None:
            continue
        key = named.column.key
        member = cat.related.get(key) == "member"
        result.issues[:] = [
            i for i in result.issues if not (i.code == "unknown_column" and i.column == mc.letter)
        ]
        if not member:
            result.fallbacks.setdefault(
                key, MappedColumn(mc.index, mc.letter, mc.header, named.column, "fallback")
            )
        result.columns[pos] = MappedColumn(
            mc.index, mc.letter, mc.header, None, None if member else "fallback"
        )
        issue(
            "id_column",
            _id_message(mc.header, named.header, member),
            mc.index,
            mc.header,
            named.column,
            severity="warning",
        )


def _id_message(ids: str, named: str, member: bool) -> str:
    what = (
        "it is ignored (another CRM's user ids match no member)"
        if member
        else f'it finds the record by its external_id where "{named.strip()}" is blank'
    )
    return f'column "{ids.strip()}" holds the ids of column "{named.strip()}"; {what}'


def _name_and_id(a: MappedColumn, b: MappedColumn) -> tuple[MappedColumn, MappedColumn] | None:
    """(name column, id column) when one header is the other's plus ``id`` (``Account Name`` and
    ``Account Name.id``, ``Owner`` and ``Owner ID``), else None."""
    na, nb = _norm(a.header), _norm(b.header)
    if nb == na + "id":
        return a, b
    if na == nb + "id":
        return b, a
    return None


def _results_columns(headers: list[str]) -> set[int]:
    """Indexes of the columns bulkio adds at the end of a results sheet (``Outcome``, ``Record
    ID``, ``Link``, ``Errors``, and ``Changes``, which older results sheets had only for a dry
    run) or of an errors file (``Errors``)."""
    texts = [("" if h is None else str(h)).strip() for h in headers]
    while texts and not texts[-1]:
        texts.pop()
    for tail in (RESULT_COLUMNS, RESULT_COLUMNS[:4], (ERRORS_COLUMN,)):
        if len(texts) > len(tail) and tuple(texts[-len(tail) :]) == tail:
            return set(range(len(texts) - len(tail), len(texts)))
    return set()


# --- the order of dates like 03/04/2024 ---------------------------------------------------------


#: Rows read ahead for the order of dates when the first :data:`ID_SAMPLE` rows' dates are all
#: ambiguous (03/04/2024 alone cannot say; a file sorted by date may hold its first 13th far down).
DATE_ORDER_ROWS = 50_000
#: …and at most this many cells (the rows read ahead are held until they are imported).
DATE_ORDER_CELLS = 1_000_000


def _regional_dates(
    header_map: HeaderMap, schema: ObjectSchema, rows: list[list[Any]]
) -> Iterator[tuple[MappedColumn, str, int, int]]:
    """Each date like 03/04/2024 of a date column: (column, text, first number, second number);
    dotted dates (01.07.2024) are day first anyway and left out."""
    from .valuetypes.dates import _REGIONAL

    for mc in header_map.by_key.values():
        col = mc.column
        fdef = schema.fields.get(col.field_key or col.key) if col is not None else None
        if fdef is None or fdef.value_type != "DATETIME":
            continue
        for cells in rows:
            raw = cells[mc.index] if mc.index < len(cells) else None
            text = raw.strip() if isinstance(raw, str) else ""
            m = _REGIONAL.match(text)
            if m is not None and m[2] != ".":
                yield mc, text, int(m[1]), int(m[3])


def ambiguous_dates(header_map: HeaderMap, schema: ObjectSchema, rows: list[list[Any]]) -> bool:
    """Whether a date column of ``rows`` holds a date like 03/04/2024 (either order reads it)."""
    return any(a <= 12 and b <= 12 for _mc, _text, a, b in _regional_dates(header_map, schema, rows))


def date_order_from_sample(
    header_map: HeaderMap, schema: ObjectSchema, rows: list[list[Any]], *, file: str | None = None
) -> str | None:
    """``DMY`` or ``MDY`` when the file's own dates say which (a ``28/02/2024`` in a date column
    and no ``02/28/2024``), else None; the first date that decides is named in a
    ``date_order_guessed`` warning on ``header_map``. Why: a sheet kept by hand in Paris writes
    ``12/03/2024`` too, which alone is ambiguous, but its column is not."""
    seen: dict[str, tuple[MappedColumn, str]] = {}
    for mc, text, a, b in _regional_dates(header_map, schema, rows):
        order = "DMY" if a > 12 >= b else "MDY" if b > 12 >= a else None
        if order is not None:
            seen.setdefault(order, (mc, text))
    if len(seen) != 1:
        return None
    ((order, (mc, text)),) = seen.items()
    header_map.issues.append(
        Issue(
            "date_order_guessed",
            f"dates are read {'day' if order == 'DMY' else 'month'} first ({order}): column "
            f'"{mc.header.strip()}" has {text!r}, and no date says otherwise (--date-order sets it)',
            file=file,
            column=mc.letter,
            header=mc.header,
            value=text,
            severity="warning",
        )
    )
    return order


# --- the Record ID column ----------------------------------------------------------------------

#: Lightfield's documented id prefixes (API-FACTS: acc_, con_, opp_, mem_); other objects' prefixes
#: are undocumented, so for them any ``xxx_<letters and digits>`` id is accepted except the
#: prefixes other CRMs use (Close: lead_, cont_, oppo_, acti_, user_).
LIGHTFIELD_ID_PREFIXES = {"account": "acc_", "contact": "con_", "opportunity": "opp_", "member": "mem_"}
FOREIGN_ID_PREFIXES = ("lead_", "cont_", "oppo_", "acti_", "user_", "orga_", "stat_", "cf_")
_LF_ID = re.compile(r"^[a-z]{2,6}_[A-Za-z0-9]{6,40}$")
#: Rows looked at to decide what a Record ID column holds.
ID_SAMPLE = 200


def looks_like_record_id(value: Any, object_type: str) -> bool:
    """True when ``value`` has the shape of a Lightfield id of ``object_type``.

    >>> looks_like_record_id("acc_4J9K2M7Q1W3E5R6T8Y0U", "account"), looks_like_record_id("1234567", "account")
    (True, False)
    """
    if not isinstance(value, str):
        return False
    text = value.strip()
    if not _LF_ID.match(text):
        return False
    prefix = LIGHTFIELD_ID_PREFIXES.get(object_type)
    if prefix is not None:
        return text.startswith(prefix)
    return not text.startswith(FOREIGN_ID_PREFIXES)


def check_record_id_column(
    header_map: HeaderMap,
    sample: list[list[Any]],
    object_type: str,
    *,
    file: str | None = None,
    sheet: str | None = None,
    header_row: int = 1,
) -> None:
    """Keep a column as the Record ID only when its values look like Lightfield ids. A column of
    another CRM's ids (HubSpot ``Record ID``, Salesforce ``Id``, Close ``id``) would make every row
    fail as ``record_not_found``: it is dropped with a ``foreign_record_id`` warning that says how to
    use it as the key instead. bulkio's own ``Record ID (id)`` header is trusted."""
    mc = header_map.by_key.get(ID_KEY)
    if mc is None or mc.how == "header":
        return
    values = [
        row[mc.index]
        for row in sample
        if mc.index < len(row) and row[mc.index] is not None and str(row[mc.index]).strip()
    ]
    bad = next((v for v in values if not looks_like_record_id(v, object_type)), None)
    if bad is None:
        return
    del header_map.by_key[ID_KEY]
    header_map.columns[header_map.columns.index(mc)] = MappedColumn(
        mc.index, mc.letter, mc.header, None, None
    )
    key = header_map.key_field
    shown = bad if not isinstance(bad, float) or not bad.is_integer() else int(bad)
    header_map.issues.append(
        Issue(
            "foreign_record_id",
            f'column "{mc.header.strip()}" holds ids that are not Lightfield record ids (e.g. {str(shown)!r}); '
            f"it is not used to find records. To match re-imports by it, map it to the key field "
            f'{key} (a mapping with "{mc.header.strip()}": {key}, or --from hubspot|salesforce|close|pipedrive|zoho|dynamics)',
            file=file,
            sheet=sheet,
            row=header_row,
            column=mc.letter,
            header=mc.header,
            field=ID_KEY,
            value=str(shown),
            expected=f"Lightfield ids such as {LIGHTFIELD_ID_PREFIXES.get(object_type, 'xxx_')}…",
            severity="warning",
        )
    )
    if key not in header_map.by_key:
        header_map.issues.append(
            Issue(
                "missing_key_column",
                f"no column for the upsert key {key} and no Record ID column; every row will create a "
                "new record",
                file=file,
                sheet=sheet,
                row=header_row,
                field=key,
                expected=f'a column for {key}, e.g. "{mc.header.strip()}": {key} in a mapping file',
                severity="warning",
            )
        )


__all__ = [
    "DATE_ORDER_CELLS",
    "DATE_ORDER_ROWS",
    "ID_KEY",
    "ID_SAMPLE",
    "IMPORT_KINDS",
    "SYNONYMS",
    "HeaderMap",
    "MappedColumn",
    "ambiguous_dates",
    "check_record_id_column",
    "column_for",
    "date_order_from_sample",
    "explicit_entry",
    "importable_keys",
    "letter",
    "load_mapping_file",
    "looks_like_record_id",
    "map_headers",
]
