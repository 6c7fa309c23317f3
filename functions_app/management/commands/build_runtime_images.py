"""``python manage.py build_runtime_images [--force] [--all] [--jobs N] [RUNTIME_ID ...]``: build
the runtime images that are missing (debootstrap base, then the runtime folder's Dockerfile)
and print how long each step took. Without ids it builds ``RUNTIME_IMAGES_PREBUILT``; any other
runtime's image is built by a worker on its first deployment. The git source image (git
deployments, ``services/git.py``) is always built too."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from functions_app import runtimes
from functions_app.services import git, images
from functions_app.services.docker import DockerError


class Command(BaseCommand):
    help = "Build the missing runtime images (Debian base via debootstrap + runtime layer)."
    requires_system_checks = []  # needs only settings and Docker, not the URLconf or models

    def add_arguments(self, parser):
        parser.add_argument(
            "runtime_ids", nargs="*", help="runtime ids (default: RUNTIME_IMAGES_PREBUILT)"
        )
        parser.add_argument("--all", action="store_true", help="every runtime this machine can run")
        parser.add_argument("--jobs", type=int, default=3, help="images built at once")
        parser.add_argument("--force", action="store_true", help="rebuild even if the tags exist")

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            results = images.ensure_all(
                force=options["force"],
                runtime_ids=self._selected(options),
                log=self.stdout.write,
                jobs=max(1, options["jobs"]),
            )
            results.append(git.ensure_image(log=self.stdout.write, force=options["force"]))
        except (DockerError, images.ImageBuildError) as error:
            raise CommandError(str(error)) from error
        for result in results:
            self.stdout.write(self._describe(result))
        self.stdout.write(self.style.SUCCESS(f"Done in {time.monotonic() - started:.1f}s"))

    @staticmethod
    def _selected(options):
        if options["all"]:
            return [rt.id for rt in runtimes.registry().values() if rt.runs_here]
        return options["runtime_ids"] or settings.RUNTIME_IMAGES_PREBUILT

    @staticmethod
    def _describe(result):
        base = f"built in {result.base_seconds:.1f}s" if result.base_built else "present"
        image = f"built in {result.seconds:.1f}s" if result.built else "present"
        return f"{result.runtime_id}: base {result.base} {base}; image {result.image} {image}"
