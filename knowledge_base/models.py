"""The knowledge base: categories and sections of articles, each article with
its versions, old slugs, feedback and history, and the search log that shows
managers what customers looked for and did not find.

Articles are Markdown; what visitors see is the sanitised HTML the services
render when an article is saved (`body_html`, knowledge_base/markdown.py).
Who may read an article is its visibility and status
(knowledge_base/selectors.py: articles_visible_to); writes are services
(knowledge_base/services.py), each recording a version or a history event.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class Category(models.Model):
    """A top-level area of the help centre ("Your account", "Billing")."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True, default="")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("kb:category", kwargs={"slug": self.slug})


class Section(models.Model):
    """A group of articles within a category ("Logging in", "Invoices")."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="sections")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    description = models.CharField(max_length=300, blank=True, default="")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["category", "position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "slug"], name="kb_section_slug_per_category"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category} / {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("kb:section", kwargs={"category": self.category.slug, "slug": self.slug})


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public (anyone)"
    CUSTOMERS = "customers", "Signed-in customers"
    INTERNAL = "internal", "Internal (helpdesk staff)"


class ArticleStatus(models.TextChoices):
    """The state of an article's newest version: being written, waiting for
    a reviewer (perhaps approved for a later time), the one visitors see, or
    withdrawn. A published article being edited stays visible with its live
    version while the new one is a draft or in review."""

    DRAFT = "draft", "Draft"
    REVIEW = "review", "In review"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class Article(models.Model):
    section = models.ForeignKey(
        Section, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    summary = models.CharField(max_length=300, blank=True, default="")
    # Markdown as written, and the sanitised HTML rendered from it on save.
    body = models.TextField()
    body_html = models.TextField(blank=True, default="")
    tags = models.ManyToManyField(Tag, blank=True, related_name="articles")
    # The live tags as text ("billing, invoices"): what search weighs with
    # the summary, without a join.
    tag_names = models.CharField(max_length=500, blank=True, default="", editable=False)
    related = models.ManyToManyField("self", blank=True)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    status = models.CharField(
        max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    # Approved to go live at this time (a scheduled publish); published_at is
    # when it did.
    publish_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="kb_articles",
    )
    # The newest saved version, and the version visitors see (0: never
    # published). Title, summary, body, section, tags and visibility above
    # are the live version's; editors work on the newest (ArticleVersion).
    version = models.PositiveIntegerField(default=0)
    live_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Counted in the cache and added here in batches (never a write per view).
    view_count = models.PositiveBigIntegerField(default=0)
    helpful_count = models.PositiveIntegerField(default=0)
    unhelpful_count = models.PositiveIntegerField(default=0)
    # The sentence embedding of title, summary and body (float32 bytes, the
    # model named in embedding_model), computed by Celery after a save.
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    embedding_model = models.CharField(max_length=200, blank=True, default="", editable=False)
    # The ticket an agent drafted it from ("Create article from this ticket"):
    # a second click opens this draft instead of writing another.
    source_ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        permissions = [
            ("edit_articles", "Can write and edit knowledge-base articles"),
            ("approve_articles", "Can approve and publish knowledge-base articles"),
        ]
        indexes = [
            # The help centre's lists: live articles by recency and by views.
            models.Index(
                fields=["-published_at"],
                name="kb_live_recent",
                condition=Q(live_version__gt=0) & ~Q(status="archived"),
            ),
            models.Index(
                fields=["-view_count"],
                name="kb_live_popular",
                condition=Q(live_version__gt=0) & ~Q(status="archived"),
            ),
            # The scheduled-publish job: approved articles waiting for their time.
            models.Index(
                fields=["publish_at"],
                name="kb_publish_due",
                condition=Q(status="review", publish_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("kb:article", kwargs={"slug": self.slug})

    @property
    def is_live(self) -> bool:
        """Visitors (who may) see it: a version was published and it is not archived."""
        return self.live_version > 0 and self.status != ArticleStatus.ARCHIVED


class ArticleVersion(models.Model):
    """Every save of an article: what it said, who saved it, when and why."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    summary = models.CharField(max_length=300, blank=True, default="")
    body = models.TextField()
    tags = models.CharField(max_length=500, blank=True, default="")
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.SET_NULL)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="kb_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class ArticleEvent(models.Model):
    """Append-only history of an article's workflow: submitted for review,
    approved, published, archived, restored, renamed..."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64)
    note = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["article", "created_at", "id"]
        indexes = [models.Index(fields=["article", "created_at"], name="kb_event_article")]

    def __str__(self) -> str:
        return f"{self.action} on {self.article_id}"


class ArticlePassageVectors(models.Model):
    """The sentence embeddings of an article's passages (its header, then its
    body in pieces: knowledge_base.embeddings.article_passages), stored
    beside the article's mean vector by the same embedding run. Semantic
    search ranks its nearest articles by the mean vector, then re-ranks those
    by their best passages. A table of its own, so loading an article never
    reads them."""

    article = models.OneToOneField(
        Article, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    # float16 rows, one per passage (half the bytes of float32; re-ranking
    # needs no more precision).
    vectors = models.BinaryField()

    def __str__(self) -> str:
        return f"passage vectors of {self.article_id}"


class ArticleSlug(models.Model):
    """A slug an article had before a rename: its old links redirect."""

    slug = models.SlugField(max_length=200, unique=True)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="old_slugs")

    def __str__(self) -> str:
        return self.slug


class ArticleFeedback(models.Model):
    """ "Was this helpful?": yes or no and an optional comment, from a
    signed-in person or an anonymous visitor (one answer per person or
    browser session and article; a second click changes it)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # An anonymous visitor's session key (hashed): one answer per visitor.
    visitor = models.CharField(max_length=64, blank=True, default="")
    helpful = models.BooleanField()
    comment = models.CharField(max_length=1000, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["article", "-created_at"], name="kb_feedback_article")]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "user"],
                condition=Q(user__isnull=False),
                name="kb_feedback_once_per_user",
            ),
            models.UniqueConstraint(
                fields=["article", "visitor"],
                condition=Q(user__isnull=True) & ~Q(visitor=""),
                name="kb_feedback_once_per_visitor",
            ),
        ]

    def __str__(self) -> str:
        return f"{'helpful' if self.helpful else 'not helpful'}: {self.article_id}"


class SearchTerm(models.Model):
    """What visitors searched for, per day (one row per normalised term and
    day, counted up): terms that found nothing are the content gaps."""

    term = models.CharField(max_length=200)
    day = models.DateField()
    searches = models.PositiveIntegerField(default=0)
    without_results = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "-searches"]
        constraints = [models.UniqueConstraint(fields=["term", "day"], name="kb_term_per_day")]
        indexes = [
            models.Index(fields=["-day"], name="kb_term_gaps", condition=Q(without_results__gt=0))
        ]

    def __str__(self) -> str:
        return f"{self.term} ({self.day})"
