"""The `opencx` command line: serve, migrate, demo, import, users, API keys, text analytics."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from opencx import imports as file_imports
from opencx import migrate as migrations
from opencx.auth import service as auth_service
from opencx.auth.models import Role
from opencx.db import session_scope
from opencx.demo.catalog import DEMO_PASSWORD, DEMO_USERS, ORGANIZATION_NAME, ORGANIZATION_SLUG
from opencx.demo.load import load_world
from opencx.demo.world import build_world
from opencx.domains import load_domains
from opencx.errors import Conflict, InvalidInput, NotFound
from opencx.settings import get_settings

if TYPE_CHECKING:
    from opencx.text.onnx_backend import OnnxModel

app = typer.Typer(help="OpenCX: open-source customer experience platform.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
apikeys_app = typer.Typer(help="Manage REST API keys.", no_args_is_help=True)
orgs_app = typer.Typer(help="Manage organizations (tenants).", no_args_is_help=True)
analytics_app = typer.Typer(help="Analytics store: sync from operations.", no_args_is_help=True)
import_app = typer.Typer(
    help="Import customers, orders or events from a CSV or JSONL file (all rows or none).",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")
app.add_typer(apikeys_app, name="apikeys")
app.add_typer(orgs_app, name="orgs")
app.add_typer(analytics_app, name="analytics")
app.add_typer(import_app, name="import")
surveys_app = typer.Typer(
    help="Surveys: due emails, reminders, periodic invitations.", no_args_is_help=True
)
app.add_typer(surveys_app, name="surveys")
webhooks_app = typer.Typer(help="Webhooks: deliver due events.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")
text_app = typer.Typer(
    help="Text analytics: language, sentiment, emotions, topics.", no_args_is_help=True
)
app.add_typer(text_app, name="text")
channels_app = typer.Typer(help="Service-desk channels.", no_args_is_help=True)
email_app = typer.Typer(help="The email channel (IMAP in, SMTP out).", no_args_is_help=True)
channels_app.add_typer(email_app, name="email")
app.add_typer(channels_app, name="channels")
sla_app = typer.Typer(help="Service-desk SLAs: breach detection.", no_args_is_help=True)
app.add_typer(sla_app, name="sla")

OrgOption = Annotated[str, typer.Option("--org", help="Organization slug")]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    reload: Annotated[bool, typer.Option(help="Reload on code changes")] = False,
) -> None:
    """Serve the web app and the REST API."""
    import uvicorn

    settings = get_settings()
    settings.resolved_secret_key()  # fail at start, not at the first login, if a secret is missing
    uvicorn.run(
        "opencx.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        reload=reload,
    )


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
    down: Annotated[bool, typer.Option("--down", help="Downgrade to the revision")] = False,
) -> None:
    """Create or upgrade the database schema."""
    if down:
        migrations.downgrade(revision=revision)
    else:
        migrations.upgrade(revision=revision)
    typer.echo(f"database at {'revision ' + revision if down else 'the latest revision'}")


@orgs_app.command("create")
def orgs_create(
    name: Annotated[str, typer.Argument(help="Organization name")],
    slug: Annotated[str | None, typer.Option(help="Short name used in the CLI")] = None,
) -> None:
    """Create an organization."""
    try:
        with session_scope() as session:
            org = auth_service.create_organization(session, name=name, slug=slug)
            typer.echo(f"organization {org.slug} (id {org.id}) created")
    except (Conflict, InvalidInput) as exc:
        raise _fail(str(exc)) from exc


@users_app.command("create")
def users_create(
    org: OrgOption,
    email: Annotated[str, typer.Option(help="Login email")],
    name: Annotated[str, typer.Option(help="Full name")],
    role: Annotated[Role, typer.Option(help="admin, manager, agent or analyst")] = Role.agent,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Password")
    ] = "",
) -> None:
    """Create a user who signs in to the web app."""
    try:
        with session_scope() as session:
            organization = auth_service.get_organization_by_slug(session, slug=org)
            user = auth_service.create_user(
                session,
                org_id=organization.id,
                email=email,
                name=name,
                role=role,
                password=password,
            )
            typer.echo(f"user {user.email} ({user.role.value}) created in {organization.slug}")
    except (Conflict, InvalidInput, NotFound) as exc:
        raise _fail(str(exc)) from exc


@apikeys_app.command("create")
def apikeys_create(
    org: OrgOption, name: Annotated[str, typer.Option(help="What the key is for")]
) -> None:
    """Create an API key; the secret is printed once."""
    try:
        with session_scope() as session:
            organization = auth_service.get_organization_by_slug(session, slug=org)
            key, secret = auth_service.create_api_key(session, org_id=organization.id, name=name)
            typer.echo(f"API key {key.name!r} created; it is shown only now:\n{secret}")
    except (InvalidInput, NotFound) as exc:
        raise _fail(str(exc)) from exc


@apikeys_app.command("revoke")
def apikeys_revoke(org: OrgOption, key_id: Annotated[int, typer.Argument(help="Key id")]) -> None:
    """Revoke an API key."""
    try:
        with session_scope() as session:
            organization = auth_service.get_organization_by_slug(session, slug=org)
            auth_service.revoke_api_key(session, org_id=organization.id, api_key_id=key_id)
            typer.echo(f"API key {key_id} revoked")
    except NotFound as exc:
        raise _fail(str(exc)) from exc


@email_app.command("fetch")
def channels_email_fetch(org: OrgOption) -> None:
    """Read new mail of the OPENCX_IMAP_* mailbox into the organization's conversations."""
    import imaplib

    from opencx.channels.tasks import fetch_email

    try:
        with session_scope() as session:
            org_id = auth_service.get_organization_by_slug(session, slug=org).id
        report = fetch_email(org_id=org_id)
    except (InvalidInput, NotFound) as exc:
        raise _fail(str(exc)) from exc
    except (OSError, imaplib.IMAP4.error) as exc:
        raise _fail(f"the IMAP server could not be read: {exc}") from exc
    typer.echo(
        f"{report.fetched} fetched, {report.stored} stored "
        f"({report.conversations_created} new conversations), {report.duplicates} duplicates, "
        f"{len(report.rejected)} rejected"
    )
    for rejected in report.rejected:
        typer.echo(f"  UID {rejected.uid}: {rejected.field}: {rejected.reason}")


@analytics_app.command("sync")
def analytics_sync(
    full: Annotated[bool, typer.Option("--full", help="Re-read every row (repairs gaps)")] = False,
) -> None:
    """Copy new and changed rows from the operational store into the analytics store."""
    # Imported here: Ibis and DuckDB take a second to load, which other commands need not pay.
    from opencx.analytics.engine import AnalyticsUnavailable
    from opencx.analytics.sync import sync_to_analytics

    try:
        report = sync_to_analytics(full=full)
    except AnalyticsUnavailable as exc:
        raise _fail(str(exc)) from exc
    for table, copied in report.copied.items():
        removed = report.removed.get(table, 0)
        typer.echo(f"{table}: {copied} copied" + (f", {removed} removed" if removed else ""))
    typer.echo(f"{report.total} rows copied")


@surveys_app.command("send-due")
def surveys_send_due() -> None:
    """Send due survey emails (and retries), reminders and periodic invitations, once."""
    from opencx.surveys.tasks import dispatch_due_work

    report = dispatch_due_work()
    typer.echo(
        f"{report.periodic_invited} periodic invitations, {report.sent} emails sent, "
        f"{report.retrying} to retry, {report.failed} failed, {report.reminded} reminders"
    )


@webhooks_app.command("deliver")
def webhooks_deliver(
    limit: Annotated[int, typer.Option(min=1, help="At most this many deliveries")] = 500,
) -> None:
    """Send every webhook delivery whose next attempt is due (for cron; the server does it too)."""
    from opencx.webhooks.tasks import deliver_due_webhooks

    load_domains()
    report = deliver_due_webhooks(limit=limit)
    typer.echo(
        f"{report.attempted} attempted: {report.delivered} delivered, "
        f"{report.retrying} to retry, {report.failed} failed"
    )


@sla_app.command("check")
def sla_check(
    limit: Annotated[int, typer.Option(min=1, help="At most this many per organization")] = 1000,
) -> None:
    """Mark SLA breaches and warnings that are due, once each (for cron; the server does it too)."""
    from opencx.conversations.tasks import check_slas

    load_domains()
    report = check_slas(limit=limit)
    typer.echo(
        f"{report.first_response_breached} first responses breached, "
        f"{report.resolution_breached} resolutions breached, {report.warned} about to breach, "
        f"{report.first_responses_recorded} first responses taken over"
    )


@app.command()
def demo(
    customers: Annotated[int, typer.Option(min=1, help="How many customers")] = 5000,
    seed: Annotated[
        int, typer.Option(help="The same seed (on the same day) gives the same world")
    ] = 42,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if any organization exists")
    ] = False,
) -> None:
    """Load the demo world: a year of Noordwind Home & Living's customers, orders and journeys."""
    if if_empty:
        with session_scope() as session:
            organizations = auth_service.count_organizations(session)
            demo_loaded = bool(
                organizations and auth_service.find_organization_id(session, slug=ORGANIZATION_SLUG)
            )
        if organizations:
            typer.echo("organizations exist already; demo not loaded")
            if demo_loaded:
                _print_demo_login()
            return
    typer.echo(f"demo world of {customers} customers, seed {seed}")
    started = time.perf_counter()
    world = build_world(customers=customers, seed=seed)
    typer.echo(f"  world simulated: {time.perf_counter() - started:.1f} s")
    try:
        report = load_world(world, on_phase=lambda name, s: typer.echo(f"  {name}: {s:.1f} s"))
    except Conflict as exc:
        raise _fail(f"{exc}; the demo loads into a database without it") from exc
    typer.echo(", ".join(f"{count} {what}" for what, count in report.rows.items()))
    from opencx.analytics.sync import sync_to_analytics

    started = time.perf_counter()
    synced = sync_to_analytics()
    typer.echo(f"  analytics store: {synced.total} rows in {time.perf_counter() - started:.1f} s")
    _print_demo_login()


def _print_demo_login() -> None:
    settings = get_settings()
    typer.echo(f"\n{ORGANIZATION_NAME} is ready: http://{settings.host}:{settings.port}/login")
    for email, name, role in DEMO_USERS:
        typer.echo(f"  {role:<8} {email:<28} {name}")
    typer.echo(f"  password for all: {DEMO_PASSWORD}")


def _import(kind: str, file: Path, org: str) -> None:
    try:
        with session_scope() as session:
            organization = auth_service.get_organization_by_slug(session, slug=org)
            report = file_imports.import_file(session, org_id=organization.id, kind=kind, path=file)
    except file_imports.ImportRejected as exc:
        for error in exc.report.errors:
            typer.echo(str(error), err=True)
        raise _fail(f"{len(exc.report.errors)} problems in {file.name}; nothing imported") from exc
    except (InvalidInput, NotFound) as exc:
        raise _fail(str(exc)) from exc
    typer.echo(
        f"{kind}: {report.received} read, {report.created} created, {report.updated} updated, "
        f"{report.duplicates} already there"
    )


FileArgument = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, help="A .csv or .jsonl file")
]


@import_app.command("customers")
def import_customers(file: FileArgument, org: OrgOption) -> None:
    """Import customers; rows matching an existing customer's email, phone or id update it."""
    _import("customers", file, org)


@import_app.command("orders")
def import_orders(file: FileArgument, org: OrgOption) -> None:
    """Import orders with their lines (CSV: one row per line); known external ids are skipped."""
    _import("orders", file, org)


@import_app.command("events")
def import_events(file: FileArgument, org: OrgOption) -> None:
    """Import journey events; known event ids are skipped."""
    _import("events", file, org)


OnnxModelOption = Annotated[
    Path | None,
    typer.Option(help="Local ONNX model folder (model.onnx, tokenizer.json, labels.json)"),
]


def _onnx_model(folder: Path | None) -> OnnxModel | None:
    from opencx.text import ModelError
    from opencx.text.onnx_backend import load_onnx_model

    if folder is None:
        return None
    try:
        return load_onnx_model(folder)
    except ModelError as error:
        raise _fail(str(error)) from error


@text_app.command("analyze")
def text_analyze(
    texts: Annotated[list[str], typer.Argument(help="One or more texts")],
    lang: Annotated[str | None, typer.Option(help="Language code; detected if left out")] = None,
    onnx_model: OnnxModelOption = None,
) -> None:
    """Print the language, sentiment and emotions of each text."""
    from opencx.text import analyze

    custom_model = _onnx_model(onnx_model)
    for text, result in zip(
        texts, analyze(texts, lang=lang, custom_model=custom_model), strict=True
    ):
        emotions = "  ".join(f"{name} {p:.2f}" for name, p in result.emotions.items())
        typer.echo(
            f"{text}\n  language {result.language} ({result.language_confidence:.2f})"
            f"  sentiment {result.sentiment} ({result.sentiment_score:+.2f})"
            f"  model {result.model}\n  {emotions}"
        )


@text_app.command("evaluate")
def text_evaluate(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV: text,label[,lang]")
    ],
    onnx_model: OnnxModelOption = None,
) -> None:
    """Print sentiment accuracy, macro-F1 and a confusion matrix per language for a labelled CSV."""
    import csv

    from opencx.text.evaluation import LabelledText, evaluate_sentiment

    with file.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "label"} - set(reader.fieldnames or [])
        if missing:
            raise _fail(f"{file} lacks the column(s) {', '.join(sorted(missing))}")
        examples = [
            LabelledText(
                row["text"], row["label"].strip().lower(), (row.get("lang") or "").strip() or None
            )
            for row in reader
        ]
    try:
        reports = evaluate_sentiment(examples, custom_model=_onnx_model(onnx_model))
    except ValueError as error:
        raise _fail(str(error)) from error
    for language, report in reports.items():
        typer.echo(f"== {language}\n{report.format()}\n")


@text_app.command("train")
def text_train(
    data: Annotated[Path, typer.Option(help="XED data folder")] = Path("../shared/data/xed"),
    language: Annotated[
        list[str] | None, typer.Option("--language", help="Language to train (repeatable)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Models folder (default: the package's)")
    ] = None,
) -> None:
    """Train the default sentiment and emotion models from XED and write their model cards."""
    from opencx.text.model import MODELS_DIR
    from opencx.text.training import TRAINED_LANGUAGES, train_language

    if not (data / "AnnotatedData").is_dir():
        raise _fail(f"{data} is not an XED data folder (no AnnotatedData/)")
    for code in language or TRAINED_LANGUAGES:
        metadata = train_language(data, code, output or MODELS_DIR)
        sentiment = metadata["test"]["sentiment"]
        figures = "  ".join(
            f"{name} acc {r['accuracy']:.3f} F1 {r['macro_f1']:.3f}"
            for name, r in sentiment.items()
        )
        typer.echo(
            f"{code}: {figures}  emotion micro-F1 {metadata['test']['emotion_micro_f1']:.3f}"
        )


def _org_id(org: str) -> int:
    try:
        with session_scope() as session:
            return auth_service.get_organization_by_slug(session, slug=org).id
    except NotFound as exc:
        raise _fail(str(exc)) from exc


@text_app.command("learn")
def text_learn(org: OrgOption) -> None:
    """Learn sentiment from the rated survey comments (print both models' quality), then topics."""
    from opencx.textanalytics import service as textanalytics

    org_id = _org_id(org)
    with session_scope() as session:
        models = textanalytics.train_organization_sentiment(session, org_id=org_id)
    if not models:
        typer.echo("no rated survey comments yet")
    for model in models:
        counts = ", ".join(f"{n} {label}" for label, n in model.counts.items() if n)
        figures = "".join(
            f"  {name} acc {q.accuracy:.3f} F1 {q.macro_f1:.3f}"
            for name, q in (("default", model.default), ("learned", model.learned))
            if q is not None
        )
        used = "learned model used" if model.chosen else "default model used"
        typer.echo(f"{model.language}: {counts}{figures}  -> {used} ({model.reason})")
    with session_scope() as session:
        topic_models = textanalytics.learn_organization_topics(session, org_id=org_id)
    for topic_model in topic_models:
        typer.echo(
            f"{topic_model.language}: {topic_model.topic_count} topics "
            f"from {topic_model.text_count} analysed texts"
        )


@text_app.command("topics")
def text_topics(
    org: OrgOption,
    learn: Annotated[
        bool, typer.Option(help="Learn the topics from the analysed texts first")
    ] = False,
) -> None:
    """Print the organization's topics: volume, sentiment and top phrases (learn them with --learn)."""
    from opencx.textanalytics import service as textanalytics
    from opencx.textanalytics.schemas import TopicFilter

    org_id = _org_id(org)
    with session_scope() as session:
        if learn:
            for model in textanalytics.learn_organization_topics(session, org_id=org_id):
                typer.echo(
                    f"{model.language}: {model.topic_count} topics from {model.text_count} texts"
                )
        explorer = textanalytics.list_topics(session, org_id=org_id, filters=TopicFilter())
    if not explorer.topics:
        typer.echo("no topics yet (learn them with --learn once texts are analysed)")
    for topic in explorer.topics:
        negative = f"{topic.negative_share:.0%}" if topic.negative_share is not None else "-"
        typer.echo(
            f"#{topic.id} [{', '.join(topic.languages)}] {topic.name}: {topic.volume} texts, "
            f"{negative} negative\n  {' · '.join(topic.phrases)}"
        )


@text_app.command("phrases")
def text_phrases(
    texts: Annotated[list[str], typer.Argument(help="One or more texts")],
    lang: Annotated[str | None, typer.Option(help="Language code; detected if left out")] = None,
) -> None:
    """Print the key phrases of each text."""
    from opencx.text import detect_language
    from opencx.text.topics import key_phrases

    for text in texts:
        language = lang or detect_language(text).language
        typer.echo(f"{text}\n  {language}: {' · '.join(key_phrases(text, language))}")


@text_app.command("enrich")
def text_enrich(org: OrgOption) -> None:
    """Analyse the organization's new and changed messages and survey comments now."""
    from opencx.textanalytics.tasks import enrich_texts

    totals = enrich_texts(org_id=_org_id(org))
    typer.echo(
        f"{totals['analyzed']} analysed, {totals['failed']} failed (retried later), "
        f"{totals['removed']} removed"
    )


@text_app.command("reanalyze")
def text_reanalyze(org: OrgOption) -> None:
    """Redo every analysis of the organization (after a model change)."""
    from opencx.textanalytics import service as textanalytics
    from opencx.textanalytics.tasks import enrich_texts

    org_id = _org_id(org)
    with session_scope() as session:
        marked = textanalytics.reanalyze_texts(session, org_id=org_id).marked
    totals = enrich_texts(org_id=org_id)
    typer.echo(f"{marked} marked; {totals['analyzed']} analysed, {totals['failed']} failed")


if __name__ == "__main__":
    app()
