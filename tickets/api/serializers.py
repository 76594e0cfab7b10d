"""Input and output shapes of the REST API.

Input serializers check the shape of a request (types, choices, lengths) and
look up the objects it names; the services decide what is allowed and do the
work. Output serializers read rows the views loaded with their relations
(select_related / prefetch_related), so they never query per row.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from core.inputs import parse_id, unstorable_text_problem
from tickets import services
from tickets.models import AgentTier, Category, Channel, Priority, Role, Status, Team, User


def absolute_url(request, name: str, **kwargs) -> str:
    return request.build_absolute_uri(reverse(name, kwargs=kwargs))


@extend_schema_field(
    {
        "oneOf": [{"type": "string"}, {"type": "integer", "minimum": 1}],
        "description": 'An id (3 or "3") or a slug ("billing").',
    }
)
class SlugOrIdField(serializers.Field):
    """A category or team named by its id or its slug, whichever the client has."""

    default_error_messages = {
        "invalid": "Give an id or a slug.",
        "does_not_exist": "No {model} has the id or slug \u201c{value}\u201d.",
    }

    def __init__(self, *, queryset, **kwargs):
        self.queryset = queryset
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        text = str(data).strip()
        if unstorable_text_problem(text) is not None:
            self.fail("invalid")
        pk = parse_id(text)
        lookup: dict[str, int | str] = {"pk": pk} if pk is not None else {"slug": text}
        found = self.queryset.filter(**lookup).first()
        if found is None:
            self.fail(
                "does_not_exist", model=self.queryset.model._meta.verbose_name, value=text[:100]
            )
        return found

    def to_representation(self, value):
        return value.slug


# A character that is not whitespace to str.strip() (which DRF trims text
# with): text that must not be blank has to hold one, as the schema then says.
NOT_ONLY_SPACE = (
    r"[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)


class TextField(serializers.CharField):
    """Text input. DRF's CharField also takes a number and makes it a string;
    the schema says string, so a number is refused like any other wrong type.
    (CharField already refuses what PostgreSQL cannot store: NUL characters
    and lone surrogates, which JSON can spell as "\\ud800".)"""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if not self.allow_blank:
            # Spaces alone are blank (trimmed away): the schema's pattern says so.
            self.validators.append(
                RegexValidator(NOT_ONLY_SPACE, message="This field may not be blank.")
            )

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class _EmptyIsAValue(serializers.Field):
    """In a form body DRF reads an optional field sent empty as left out; one
    schema describes JSON and multipart bodies alike, and there an empty
    string is no choice and no boolean, so it is refused as what it is."""

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)


class ChoiceInput(_EmptyIsAValue, serializers.ChoiceField):
    """A choice in a request body."""


class FlagField(_EmptyIsAValue, serializers.BooleanField):
    """true or false: a JSON boolean, or the word in a form body. DRF's
    BooleanField also takes 1, "0", "yes", "on"...; the schema says boolean."""

    def to_internal_value(self, data):
        if data is True or data is False:
            return data
        if data in ("true", "false"):
            return data == "true"
        self.fail("invalid", input=data)


class VersionField(TextField):
    """A ticket's `version` sent back with a change (whole microseconds, see
    services.ticket_version); empty, like leaving it out, skips the check."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(
            allow_blank=True,
            max_length=17,
            validators=[
                RegexValidator(r"^[0-9]+$", "Send back the `version` the ticket came with.")
            ],
            **kwargs,
        )


# --- errors (for the schema: tickets.api.exceptions writes these shapes) --------


class ErrorSerializer(serializers.Serializer):
    """Every error the API answers (written by tickets.api.exceptions)."""

    error = serializers.CharField(help_text="What went wrong, for a person to read.")
    # The metaclass moves declared fields out of the class namespace, so this
    # does not replace Serializer.fields at runtime; the stubs cannot know that.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.JSONField(),
        required=False,
        help_text="Invalid input: the messages per input field or query parameter.",
    )
    field = serializers.CharField(
        allow_null=True,
        required=False,
        help_text="A refused operation: the input at fault, when there is one.",
    )
    code = serializers.CharField(
        required=False,
        help_text='A refused operation: "invalid" (400), "permission_denied" (403) or '
        '"stale" (409: the ticket changed since `version`).',
    )


# --- references to related objects ----------------------------------------------


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="full_name")


class RequesterSerializer(PersonSerializer):
    email = serializers.EmailField()


class OrganizationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TeamSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()


class CategoryRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()


# --- tickets ----------------------------------------------------------------------


class TicketOutputSerializer(serializers.Serializer):
    # The classifier's reading of the customer (tone, certainty, triage flag) is
    # for the helpdesk's eyes: customers get the ticket without these fields.
    STAFF_ONLY_FIELDS = ("needs_triage", "category_confidence", "sentiment")

    key = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    priority = serializers.ChoiceField(choices=Priority.choices)
    category = CategoryRefSerializer(allow_null=True)
    team = TeamSerializer(allow_null=True)
    assignee = PersonSerializer(allow_null=True)
    requester = RequesterSerializer()
    organization = OrganizationRefSerializer(allow_null=True)
    channel = serializers.ChoiceField(choices=Channel.choices)
    tier = serializers.ChoiceField(choices=AgentTier.choices)
    tags = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    first_response_at = serializers.DateTimeField(allow_null=True)
    solved_at = serializers.DateTimeField(allow_null=True)
    needs_triage = serializers.BooleanField(required=False, help_text="Staff only.")
    category_confidence = serializers.FloatField(
        allow_null=True, required=False, help_text="Staff only."
    )
    sentiment = serializers.FloatField(
        allow_null=True, required=False, help_text="Staff only; -1 negative to 1 positive."
    )
    version = serializers.SerializerMethodField(
        help_text="Send it back as `version` when changing the ticket: a change by "
        "someone else since then answers 409 instead of being overwritten."
    )
    url = serializers.SerializerMethodField()

    def get_tags(self, ticket) -> list[str]:
        # Reads the prefetched tags (the views prefetch them with the page).
        return sorted(tag.name for tag in ticket.tags.all())

    def get_version(self, ticket) -> str:
        return services.ticket_version(ticket)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, ticket) -> str:
        return absolute_url(self.context["request"], "api:ticket", key=ticket.key)

    def to_representation(self, ticket):
        data = super().to_representation(ticket)
        if not self.context["is_staff"]:
            for name in self.STAFF_ONLY_FIELDS:
                data.pop(name)
        return data


class TicketPageSerializer(serializers.Serializer):
    next = serializers.URLField(
        allow_null=True, help_text="The next page (same filters), or null on the last page."
    )
    results = TicketOutputSerializer(many=True)


class TicketCreateInputSerializer(serializers.Serializer):
    subject = TextField(max_length=250)
    description = TextField(help_text="Becomes the first message of the ticket.")
    priority = ChoiceInput(
        choices=Priority.choices,
        required=False,
        help_text="Leave it out to let intake decide (classification, keyword rules).",
    )
    category = SlugOrIdField(queryset=Category.objects.all(), required=False)
    team = SlugOrIdField(queryset=Team.objects.all(), required=False)
    requester = TextField(
        required=False,
        allow_blank=True,
        max_length=254,
        help_text="Staff only: the customer (id or e-mail) the ticket is opened for, e.g. "
        "on the phone; the ticket's channel is then \u201cagent\u201d. Customers always open "
        "tickets for themselves (channel \u201capi\u201d), as does an empty value.",
    )


class TicketCreateUploadSerializer(TicketCreateInputSerializer):
    """The same as multipart/form-data, with files."""

    attachments = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        required=False,
        help_text="Files, one `attachments` part per file (their size and type are checked "
        "like every upload's).",
    )


class TicketUpdateInputSerializer(serializers.Serializer):
    subject = TextField(max_length=250, required=False)
    status = ChoiceInput(
        choices=Status.choices,
        required=False,
        help_text="Customers may only solve their ticket or reopen a solved one.",
    )
    priority = ChoiceInput(choices=Priority.choices, required=False)
    category = SlugOrIdField(queryset=Category.objects.all(), required=False, allow_null=True)
    team = SlugOrIdField(queryset=Team.objects.all(), required=False, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.assignable(),
        required=False,
        allow_null=True,
        help_text="An agent's id, or null to put the ticket back in its queue.",
    )
    tags = serializers.ListField(
        child=TextField(max_length=50),
        required=False,
        help_text="The ticket's tags afterwards (replaces them all).",
    )
    version = VersionField(help_text="The ticket's `version` the change is based on.")


# --- messages ---------------------------------------------------------------------


class AttachmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")
    content_type = serializers.CharField()
    url = serializers.SerializerMethodField(help_text="Download it with the same credentials.")

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, attachment) -> str:
        return absolute_url(self.context["request"], "api:attachment", pk=attachment.pk)


class MessageOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = PersonSerializer(
        allow_null=True, help_text="Null for a note the helpdesk wrote itself (an SLA hand-over)."
    )
    is_internal = serializers.BooleanField(
        help_text="An internal note; only helpdesk staff ever receive these."
    )
    body = serializers.CharField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    created_at = serializers.DateTimeField()
    attachments = AttachmentOutputSerializer(many=True)


class MessagePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    results = MessageOutputSerializer(many=True)


class MessageCreateInputSerializer(serializers.Serializer):
    body = TextField()
    is_internal = FlagField(
        default=False, help_text="Staff only: an internal note the customer never sees."
    )
    status = ChoiceInput(
        choices=Status.choices,
        required=False,
        help_text="Staff: move the ticket in the same step (e.g. reply and set pending).",
    )
    version = VersionField(help_text="The ticket's `version` the reply is based on.")


class MessageCreateUploadSerializer(MessageCreateInputSerializer):
    """The same as multipart/form-data, with files."""

    attachments = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        required=False,
        help_text="Files, one `attachments` part per file.",
    )


# --- reference data ---------------------------------------------------------------


class CategoryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()
    required_tier = serializers.ChoiceField(choices=AgentTier.choices)
    default_team = TeamSerializer(allow_null=True)


class AgentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="full_name")
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    tier = serializers.ChoiceField(choices=AgentTier.choices, allow_null=True)
    teams = TeamSerializer(many=True)
    is_available = serializers.BooleanField()
    capacity = serializers.IntegerField()
