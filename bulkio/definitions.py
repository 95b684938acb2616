"""Field and relationship definitions of an object, as the API describes them.

``GET /v1/<type>/definitions`` is the source of truth for what a column can hold: keys, labels,
value types, select options, read-only flags. The API does not say which keys are *required on
create* nor which relationships are read-only reverse links, so those facts (from the official
contract) live here in :data:`REQUIRED_ON_CREATE` and :data:`READ_ONLY_RELATIONSHIPS`.

Notes have no definitions endpoint in the contract, so :data:`NOTE_DEFINITIONS` is built in.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

VALUE_TYPES = (
    "ADDRESS",
    "CHECKBOX",
    "CURRENCY",
    "DATETIME",
    "EMAIL",
    "FULL_NAME",
    "MARKDOWN",
    "MULTI_SELECT",
    "NUMBER",
    "SINGLE_SELECT",
    "SOCIAL_HANDLE",
    "TELEPHONE",
    "TEXT",
    "URL",
    "HTML",
)

#: Built-in object types and their REST collection names.
SYSTEM_OBJECTS: dict[str, str] = {
    "account": "accounts",
    "contact": "contacts",
    "opportunity": "opportunities",
    "task": "tasks",
    "note": "notes",
    "member": "members",
}

#: Keys that must be present when creating a record (contract facts, not in definitions).
REQUIRED_ON_CREATE: dict[str, tuple[str, ...]] = {
    "account": ("$name",),
    "contact": (),
    "opportunity": ("$name", "$stage", "$account"),
    "task": ("$title", "$status", "$assignedTo"),
    "note": ("$title",),
}

#: Reverse links the API computes from the other side; never written.
READ_ONLY_RELATIONSHIPS: dict[str, frozenset[str]] = {
    "account": frozenset({"$opportunity", "$task", "$note", "$meeting"}),
    "opportunity": frozenset({"$task", "$note", "$meeting"}),
    "task": frozenset({"$note"}),
}

#: Relationships that can be set on create but are not part of the typed update schema.
CREATE_ONLY_RELATIONSHIPS: dict[str, frozenset[str]] = {
    "opportunity": frozenset({"$createdBy"}),
    "task": frozenset({"$createdBy"}),
}

#: Relationships set on create that the typed update schema leaves out and whose change the API
#: documents nowhere (API-FACTS §3.3: UNKNOWN; the strict sandbox refuses it): a different value
#: on update is not sent, and the cell gets a warning instead of the whole row failing.
FIXED_AFTER_CREATE: dict[str, frozenset[str]] = {
    "opportunity": frozenset({"$account"}),
}

#: Relationship ops allowed on update, per object type (notes cannot replace).
UPDATE_OPS: dict[str, tuple[str, ...]] = {"note": ("add", "remove")}


class OptionDef(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    label: str
    description: str | None = None
    #: the option of the field's ``scope_field`` this option belongs to (Close: a status's pipeline)
    scope: str | None = None
    #: the label within its scope, when ``label`` is qualified (``Renewals: Won`` → ``Won``)
    short: str | None = None


class TypeConfiguration(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    options: list[OptionDef] = Field(default_factory=list)
    currency: str | None = None
    unique: bool = False
    multiple_values: bool = Field(False, alias="multipleValues")
    handle_service: str | None = Field(None, alias="handleService")
    #: a select whose options belong to the options of another field (Close: statuses within a
    #: pipeline): a label several options share is found within the row's value of that field
    scope_field: str | None = Field(None, alias="scopeField")


class FieldDef(BaseModel):
    """One field definition; ``key`` is the map key it came under (``$stage``, ``external_id``)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    key: str = ""
    id: str | None = None
    label: str
    description: str | None = None
    value_type: str = Field(alias="valueType")
    read_only: bool = Field(False, alias="readOnly")
    type_configuration: TypeConfiguration = Field(
        default_factory=lambda: TypeConfiguration.model_validate({}), alias="typeConfiguration"
    )

    @property
    def options(self) -> list[OptionDef]:
        return self.type_configuration.options

    @property
    def multiple(self) -> bool:
        """True when the value is a list (MULTI_SELECT, or a multi-value EMAIL/URL/TELEPHONE)."""
        return self.value_type == "MULTI_SELECT" or self.type_configuration.multiple_values

    @property
    def unique(self) -> bool:
        return self.type_configuration.unique


class RelationshipDef(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    key: str = ""
    id: str | None = None
    label: str
    description: str | None = None
    cardinality: str  # HAS_ONE | HAS_MANY (compare case-insensitively)
    object_type: str = Field(alias="objectType")
    read_only: bool = False

    @property
    def has_many(self) -> bool:
        return self.cardinality.upper() == "HAS_MANY"


class ObjectSchema(BaseModel):
    """Everything bulkio knows about one object type's shape."""

    object_type: str
    fields: dict[str, FieldDef]
    relationships: dict[str, RelationshipDef]
    #: keys required on create, when the backend says (else :data:`REQUIRED_ON_CREATE`)
    required_keys: tuple[str, ...] | None = None

    @classmethod
    def from_api(cls, payload: dict[str, Any], *, object_type: str | None = None) -> ObjectSchema:
        """Build from a ``/definitions`` response body (unknown extra keys are ignored)."""
        otype = object_type or payload["objectType"]
        fields = {
            k: FieldDef.model_validate({**v, "key": k})
            for k, v in (payload.get("fieldDefinitions") or {}).items()
        }
        ro = READ_ONLY_RELATIONSHIPS.get(otype, frozenset())
        rels = {}
        for k, v in (payload.get("relationshipDefinitions") or {}).items():
            rel = RelationshipDef.model_validate({**v, "key": k})
            rel.read_only = rel.read_only or k in ro or bool(v.get("readOnly"))
            rels[k] = rel
        return cls(object_type=otype, fields=fields, relationships=rels)

    @property
    def required(self) -> tuple[str, ...]:
        """Keys required on create that this org actually defines."""
        wanted = self.required_keys
        if wanted is None:
            wanted = REQUIRED_ON_CREATE.get(self.object_type, ())
        return tuple(k for k in wanted if k in self.fields or k in self.relationships)

    def writable_fields(self) -> list[FieldDef]:
        return [f for f in self.fields.values() if not f.read_only]

    def writable_relationships(self) -> list[RelationshipDef]:
        return [r for r in self.relationships.values() if not r.read_only]

    def unique_fields(self) -> list[FieldDef]:
        return [f for f in self.fields.values() if f.unique]


#: Notes have no definitions endpoint in the contract; this is their documented shape.
NOTE_DEFINITIONS: dict[str, Any] = {
    "objectType": "note",
    "fieldDefinitions": {
        "$title": {
            "label": "Title",
            "description": "Title of the note",
            "valueType": "TEXT",
            "typeConfiguration": {},
        },
        "$content": {
            "label": "Content",
            "description": "Markdown body of the note",
            "valueType": "MARKDOWN",
            "typeConfiguration": {},
        },
    },
    "relationshipDefinitions": {
        "$account": {
            "label": "Account",
            "description": "Accounts this note is about",
            "cardinality": "HAS_MANY",
            "objectType": "account",
        },
        "$opportunity": {
            "label": "Opportunity",
            "description": "Opportunities this note is about",
            "cardinality": "HAS_MANY",
            "objectType": "opportunity",
        },
    },
}


def collection_path(object_type: str) -> str:
    """The list/create path of an object type: ``/v1/accounts`` or ``/v1/objects/<slug>``."""
    if object_type in SYSTEM_OBJECTS:
        return f"/v1/{SYSTEM_OBJECTS[object_type]}"
    return f"/v1/objects/{object_type}"


def create_path(object_type: str) -> str:
    """Custom objects create under ``/values``; system objects on the collection path."""
    if object_type in SYSTEM_OBJECTS:
        return collection_path(object_type)
    return f"/v1/objects/{object_type}/values"


def record_path(object_type: str, record_id: str) -> str:
    """Retrieve/update path; custom-object records live under ``/values/{id}``."""
    return f"{create_path(object_type)}/{record_id}"


def definitions_path(object_type: str) -> str:
    if object_type in SYSTEM_OBJECTS:
        return f"/v1/{SYSTEM_OBJECTS[object_type]}/definitions"
    return f"/v1/objects/{object_type}/definitions"


Cardinality = Literal["HAS_ONE", "HAS_MANY"]
