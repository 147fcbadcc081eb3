"""Pages need collected static files when DEBUG is off: serving commands make sure they exist.

With DEBUG off, whitenoise's manifest storage names every stylesheet and script by its hashed
name from STATIC_ROOT/staticfiles.json; without it every page answers 500 ("Missing staticfiles
manifest entry"). A serving command calls `ensure_collected()` before it listens: it collects
what is missing or out of date, or refuses to start with what to run.
"""

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.management import call_command
from django.core.management.base import CommandError


def missing_from_manifest() -> list[str]:
    """Static files the pages may name that the manifest does not list (all of them if none)."""
    storage = staticfiles_storage
    if not isinstance(getattr(storage, "_wrapped", storage), ManifestFilesMixin):
        # A lazy object: only its class tells, and that needs it set up.
        storage.exists("")  # noqa: B018 - forces setup
    if not isinstance(storage._wrapped, ManifestFilesMixin):
        return []  # DEBUG or plain storage: files are found where they are
    # Read the manifest again (this process may just have written it) and keep what it says.
    storage.hashed_files, storage.manifest_hash = storage.load_manifest()
    listed = storage.hashed_files
    missing = []
    for finder in finders.get_finders():
        for path, _ in finder.list(["CVS", ".*", "*~"]):
            if path.replace("\\", "/") not in listed:
                missing.append(path)
    return missing


def ensure_collected(write=print) -> None:
    """Collect static files into STATIC_ROOT if the manifest lacks any; else fail with a hint."""
    root = settings.STATIC_ROOT
    try:
        missing = missing_from_manifest()
        if not missing:
            return
        write(f"Collecting static files into {root} ({len(missing)} not collected yet) ...")
        call_command("collectstatic", interactive=False, verbosity=0)
    except OSError as exc:
        raise CommandError(
            f"Static files are not collected in STATIC_ROOT ({root}) and cannot be collected "
            f"there ({exc.strerror or exc}). With DEBUG off every page needs them: run "
            "`manage.py collectstatic --noinput` as a user that may write to STATIC_ROOT (or "
            "point STATIC_ROOT at a writable directory), then start again."
        ) from None
    still = missing_from_manifest()
    if still:
        raise CommandError(
            f"collectstatic left {len(still)} file(s) out of the manifest (first: {still[0]}): "
            "run `manage.py collectstatic --noinput` and read its errors."
        )
