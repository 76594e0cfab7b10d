"""The REST API's views, one per endpoint.

Each parses its input with an input serializer, reads through
tickets.selectors or calls one service, and renders an output serializer. Who
may see a ticket is decided by `tickets_visible_to` / `ticket_get_for_user`
(another organisation's ticket is a 404); what a person may change is decided
by the services, whose DomainError tickets.api.exceptions turns into
400 / 403 / 409.
"""

from __future__ import annotations

from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import prefetch_related_objects
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, throttling
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from core.inputs import parse_id
from tickets import queues, selectors, services
from tickets.api import pagination
from tickets.api.filters import (
    PageParamsSerializer,
    TicketListParamsSerializer,
    parse_params,
    refuse_staff_only_filters,
)
from tickets.api.schema import ApiAutoSchema
from tickets.api.serializers import (
    AgentOutputSerializer,
    CategoryOutputSerializer,
    ErrorSerializer,
    MessageCreateInputSerializer,
    MessageCreateUploadSerializer,
    MessageOutputSerializer,
    MessagePageSerializer,
    TeamSerializer,
    TicketCreateInputSerializer,
    TicketCreateUploadSerializer,
    TicketOutputSerializer,
    TicketPageSerializer,
    TicketUpdateInputSerializer,
)
from tickets.errors import DomainError
from tickets.intake import intake_ticket
from tickets.models import Attachment, Category, Channel, Role, Team, User, format_ticket_key
from tickets.search import search_tickets

# --- policy shared by every endpoint ---------------------------------------------


class _RatesFromSettings:
    """DRF's rate throttles copy REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] once,
    when rest_framework.throttling is imported; reading the rate per request
    lets a changed setting (a test's override) take effect."""

    # Set by the DRF throttle this is mixed into (declared for the type checker).
    scope: str | None

    def get_rate(self):
        rates = api_settings.DEFAULT_THROTTLE_RATES
        if self.scope not in rates:
            raise ImproperlyConfigured(
                f'REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] has no rate for {self.scope!r}.'
            )
        return rates[self.scope]


class UserRateThrottle(_RatesFromSettings, throttling.UserRateThrottle):
    """Per signed-in user (HELPDESK_API_RATE)."""


class AnonRateThrottle(_RatesFromSettings, throttling.AnonRateThrottle):
    """Per client address for requests without credentials (HELPDESK_API_ANON_RATE)."""


class ApiView(APIView):
    # The API's whole access policy, stated here instead of inherited from the
    # REST_FRAMEWORK defaults: DRF binds those to APIView when it is first
    # imported, and the throttles above must be these runtime-rate classes.
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [AnonRateThrottle, UserRateThrottle]
    # JSON only, as the schema says (DRF would also render its browsable HTML).
    renderer_classes = [JSONRenderer]
    schema = ApiAutoSchema()


class IsHelpdeskStaff(BasePermission):
    message = "Only helpdesk staff can see this."

    def has_permission(self, request, view) -> bool:
        return _is_staff(request.user)


def _is_staff(user) -> bool:
    return user.has_perm("tickets.work_tickets")


def _ticket_context(request) -> dict:
    return {"request": request, "is_staff": _is_staff(request.user)}


KEY_PARAMETER = OpenApiParameter(
    "key", str, OpenApiParameter.PATH, description="The ticket's key, e.g. HD-1042."
)
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input, or a rule refused it."),
    401: OpenApiResponse(ErrorSerializer, description="No valid credentials."),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed for this user."),
    404: OpenApiResponse(ErrorSerializer, description="Not there, or not yours to see."),
    406: OpenApiResponse(ErrorSerializer, description="The Accept header allows no JSON."),
    409: OpenApiResponse(ErrorSerializer, description="Changed by someone else since `version`."),
    413: OpenApiResponse(ErrorSerializer, description="The body is larger than the server takes."),
    415: OpenApiResponse(
        ErrorSerializer, description="A body of a type this endpoint does not read."
    ),
    429: OpenApiResponse(ErrorSerializer, description="Too many requests; see Retry-After."),
}


def _errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in codes}


def _with_uploads(request, plain: type[S], uploads: type[S]) -> type[S]:
    """The input serializer for the request's body: files only come in
    multipart/form-data (JSON cannot carry them, so it has no such field)."""
    return uploads if request.content_type.startswith("multipart/") else plain


S = TypeVar("S", bound=Serializer)

# The bodies an endpoint that takes files reads (no urlencoded form: it has no files).
UPLOAD_PARSERS = [JSONParser, MultiPartParser]


# --- tickets ------------------------------------------------------------------------


def _requester_and_channel(user: User, requested: str | None) -> tuple[User, str]:
    """Who a new ticket is for, and the channel it arrives by.

    Staff may open a ticket for a customer (someone on the phone or in a chat):
    the channel is then "agent". Everybody else opens tickets for themselves
    through the API; naming someone else is refused before looking them up, so
    the answer tells a customer nothing about other people's accounts."""
    text = (requested or "").strip()
    if not _is_staff(user):
        if text and text.lower() != user.email and text != str(user.pk):
            raise DomainError(
                "Customers can only open tickets for themselves.",
                field="requester",
                code="permission_denied",
            )
        return user, Channel.API
    if not text:
        return user, Channel.API
    customers = User.objects.filter(role=Role.CUSTOMER, is_active=True)
    customer_id = parse_id(text)
    if customer_id is not None:
        found = customers.filter(pk=customer_id).first()
    else:
        found = customers.filter(email=text.lower()).first()
    if found is None:
        raise DomainError("No active customer has this id or e-mail address.", field="requester")
    return found, Channel.AGENT


class TicketListCreateApi(ApiView):
    parser_classes = UPLOAD_PARSERS

    @extend_schema(
        operation_id="tickets_list",
        summary="List tickets",
        description="The tickets you may see, newest first unless `sort` says otherwise, "
        "a page at a time: follow `next` until it is null.",
        parameters=[TicketListParamsSerializer],
        responses={200: TicketPageSerializer, **_errors(400, 401, 403, 406, 429)},
    )
    def get(self, request):
        params = parse_params(TicketListParamsSerializer, request.query_params)
        user = request.user
        if not _is_staff(user):
            refuse_staff_only_filters(params)
        tickets = queues.apply_filters(selectors.tickets_visible_to(user), params, user)
        size = params.get("page_size", pagination.DEFAULT_PAGE_SIZE)
        if params.get("q"):
            # The best matches, in one page: a cursor asks for the page after it.
            # Joined like a list page's rows (pagination.TICKET_RELATED): one
            # query for the page whatever its size.
            rows = (
                []
                if params.get("cursor")
                else search_tickets(
                    tickets, params["q"], limit=size, related=pagination.TICKET_RELATED
                )
            )
            if params.get("sort"):
                rows = queues.sort_rows(rows, params["sort"])
            prefetch_related_objects(rows, "tags")
            page = pagination.Page(rows, None)
        else:
            page = pagination.ticket_page(
                tickets,
                request=request,
                sort=params.get("sort", queues.DEFAULT_SORT),
                cursor=params.get("cursor"),
                size=size,
            )
        results = TicketOutputSerializer(page.rows, many=True, context=_ticket_context(request))
        return Response({"next": page.next_url, "results": results.data})

    @extend_schema(
        operation_id="tickets_create",
        summary="Open a ticket",
        description="Opens the ticket and runs intake (classification, routing) on it in "
        "one transaction: it answers 201 with the ticket, or an error and nothing is "
        "written. Send JSON, or multipart/form-data to attach files.",
        request={
            "application/json": TicketCreateInputSerializer,
            "multipart/form-data": TicketCreateUploadSerializer,
        },
        responses={201: TicketOutputSerializer, **_errors(400, 401, 403, 406, 413, 415, 429)},
    )
    def post(self, request):
        serializer = _with_uploads(
            request, TicketCreateInputSerializer, TicketCreateUploadSerializer
        )(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        requester, channel = _requester_and_channel(request.user, data.get("requester"))
        ticket = intake_ticket(
            requester=requester,
            subject=data["subject"],
            description=data["description"],
            channel=channel,
            attachments=data.get("attachments", []),
            actor=request.user,
            priority=data.get("priority"),
            category=data.get("category"),
            team=data.get("team"),
        )
        body = TicketOutputSerializer(ticket, context=_ticket_context(request)).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})


class TicketDetailApi(ApiView):
    # A change is a JSON object: a form body that holds no fields would read
    # as an empty change instead of the malformed input it is.
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="tickets_retrieve",
        summary="Get a ticket",
        parameters=[KEY_PARAMETER],
        responses={200: TicketOutputSerializer, **_errors(401, 404, 406, 429)},
    )
    def get(self, request, key: str):
        ticket = selectors.ticket_get_for_user(request.user, key)
        return Response(TicketOutputSerializer(ticket, context=_ticket_context(request)).data)

    @extend_schema(
        operation_id="tickets_update",
        summary="Change a ticket",
        description="Send only what changes; all of it is applied or none. Customers may "
        "only set `status` (solve their ticket, reopen a solved one); the other fields "
        "are staff work (403).",
        parameters=[KEY_PARAMETER],
        request=TicketUpdateInputSerializer,
        responses={
            200: TicketOutputSerializer,
            **_errors(400, 401, 403, 404, 406, 409, 413, 415, 429),
        },
    )
    def patch(self, request, key: str):
        ticket = selectors.ticket_get_for_user(request.user, key)
        serializer = TicketUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # An empty change ({}, like an empty merge patch) answers the ticket as it is.
        if set(data) == {"status"}:
            # The one change customers may make too; the service knows which.
            ticket = services.ticket_change_status(
                ticket=ticket, status=data["status"], actor=request.user
            )
        elif data:
            properties = {
                f: data[f] for f in ("subject", "priority", "category", "team") if f in data
            }
            ticket = services.ticket_set_properties(
                ticket=ticket,
                actor=request.user,
                expected_version=data.get("version"),
                status=data.get("status"),
                # False is the service's "not part of this change"; None unassigns.
                assignee=data.get("assignee", False),
                tags=data.get("tags"),
                **properties,
            )
        return Response(TicketOutputSerializer(ticket, context=_ticket_context(request)).data)


# --- the conversation ------------------------------------------------------------


class TicketMessagesApi(ApiView):
    parser_classes = UPLOAD_PARSERS

    @extend_schema(
        operation_id="tickets_messages_list",
        summary="Read a ticket's conversation",
        description="Oldest first. Internal notes are included for helpdesk staff only.",
        parameters=[KEY_PARAMETER, PageParamsSerializer],
        responses={200: MessagePageSerializer, **_errors(400, 401, 404, 406, 429)},
    )
    def get(self, request, key: str):
        ticket = selectors.ticket_get_for_user(request.user, key)
        params = parse_params(PageParamsSerializer, request.query_params)
        page = pagination.message_page(
            selectors.messages_visible_to(request.user, ticket),
            request=request,
            cursor=params.get("cursor"),
            size=params.get("page_size", pagination.DEFAULT_PAGE_SIZE),
        )
        results = MessageOutputSerializer(page.rows, many=True, context={"request": request})
        return Response({"next": page.next_url, "results": results.data})

    @extend_schema(
        operation_id="tickets_messages_create",
        summary="Reply, or add an internal note",
        description="A customer's reply reopens a pending or solved ticket; a staff reply "
        "is e-mailed to the requester. Send multipart/form-data to attach files.",
        parameters=[KEY_PARAMETER],
        request={
            "application/json": MessageCreateInputSerializer,
            "multipart/form-data": MessageCreateUploadSerializer,
        },
        responses={
            201: MessageOutputSerializer,
            **_errors(400, 401, 403, 404, 406, 409, 413, 415, 429),
        },
    )
    def post(self, request, key: str):
        ticket = selectors.ticket_get_for_user(request.user, key)
        serializer = _with_uploads(
            request, MessageCreateInputSerializer, MessageCreateUploadSerializer
        )(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        message = services.ticket_reply(
            ticket=ticket,
            author=request.user,
            body=data["body"],
            is_internal=data["is_internal"],
            channel=Channel.API,
            status=data.get("status"),
            attachments=data.get("attachments", []),
            expected_version=data.get("version"),
        )
        body = MessageOutputSerializer(message, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class AttachmentDownloadApi(ApiView):
    @extend_schema(
        operation_id="attachments_download",
        summary="Download an attachment",
        responses={
            # Uploads are refused unless their type is one of these (the
            # services check every channel), so the file is one of them too.
            **{
                (200, content_type): OpenApiResponse(
                    OpenApiTypes.BINARY, description="The file, with the type it was sent with."
                )
                for content_type in settings.HELPDESK_ATTACHMENT_TYPES
            },
            **_errors(401, 404, 429),
        },
    )
    def get(self, request, pk: int):
        attachment = Attachment.objects.select_related("message").filter(pk=pk).first()
        if attachment is None:
            raise Http404("No such attachment")
        # Served only to people who can see the message: the ticket through the
        # access helper, the message through the one that hides internal notes.
        ticket = selectors.ticket_get_for_user(
            request.user, format_ticket_key(attachment.message.ticket_id)
        )
        visible = selectors.messages_visible_to(request.user, ticket)
        if not visible.filter(pk=attachment.message_id).exists():
            raise Http404("No such attachment")
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.filename,
            content_type=attachment.content_type,
        )

    def perform_content_negotiation(self, request, force=False):
        # The file answers whatever the client accepts (Accept: application/pdf
        # would otherwise be a 406); errors still go out as JSON.
        return super().perform_content_negotiation(request, force=True)


# --- no such endpoint ------------------------------------------------------------------


class NotFoundApi(APIView):
    """Every /api/ URL that names no endpoint, whatever the method: a JSON 404
    through the API's exception handler, like every other API error. It needs
    no credentials (there is nothing to protect) and is not in the schema."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [AnonRateThrottle]
    renderer_classes = [JSONRenderer]
    schema = None

    def initial(self, request, *args, **kwargs):
        raise NotFound()


# --- reference data ------------------------------------------------------------------


class CategoryListApi(ApiView):
    @extend_schema(
        operation_id="categories_list",
        summary="List categories",
        responses={200: CategoryOutputSerializer(many=True), **_errors(401, 406, 429)},
    )
    def get(self, request):
        categories = Category.objects.select_related("default_team").order_by("name")
        return Response(CategoryOutputSerializer(categories, many=True).data)


class TeamListApi(ApiView):
    @extend_schema(
        operation_id="teams_list",
        summary="List teams",
        responses={200: TeamSerializer(many=True), **_errors(401, 406, 429)},
    )
    def get(self, request):
        return Response(TeamSerializer(Team.objects.order_by("name"), many=True).data)


class AgentListApi(ApiView):
    permission_classes = [IsAuthenticated, IsHelpdeskStaff]

    @extend_schema(
        operation_id="agents_list",
        summary="List agents (staff only)",
        description="Everybody a ticket can be assigned to, with their teams.",
        responses={200: AgentOutputSerializer(many=True), **_errors(401, 403, 406, 429)},
    )
    def get(self, request):
        agents = User.objects.assignable().prefetch_related("teams").order_by("full_name", "id")
        return Response(AgentOutputSerializer(agents, many=True).data)
