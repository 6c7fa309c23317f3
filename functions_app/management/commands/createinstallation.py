"""``manage.py createinstallation --project P --url BASE_URL [--name NAME] [--provider KIND]
[--username USER] [--token TOKEN | --token-file FILE] [--ssh-key-file FILE]
[--known-hosts-file FILE] [--webhook-secret SECRET]``: create a git connection and print only
its ID."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from functions_app.errors import AppwriteError
from functions_app.models import Installation, Project
from functions_app.services import installations


def read(path):
    if not path:
        return ""
    try:
        return Path(path).read_text()
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error}") from None


class Command(BaseCommand):
    help = "Create a git connection (installation) of a project and print only its ID."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True)
        parser.add_argument(
            "--url",
            required=True,
            help="https://host[/path], ssh://[user@]host[/path] or file:///folder",
        )
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--provider", default="git", choices=Installation.Provider.values, help="default: git"
        )
        parser.add_argument("--username", default="", help="user name for --token (HTTPS)")
        parser.add_argument("--token", default="", help="HTTPS token (or --token-file)")
        parser.add_argument("--token-file", default="")
        parser.add_argument("--ssh-key-file", default="", help="private key for ssh:// URLs")
        parser.add_argument("--known-hosts-file", default="", help="known_hosts lines for ssh://")
        parser.add_argument("--webhook-secret", default="")

    def handle(self, *args, **options):
        project = Project.objects.filter(pk=options["project"]).first()
        if project is None:
            raise CommandError(f"Project {options['project']!r} not found")
        if options["token"] and options["token_file"]:
            raise CommandError("Give --token or --token-file, not both.")
        token = options["token"] or read(options["token_file"]).strip()
        try:
            installation = installations.create_installation(
                project,
                name=options["name"] or options["url"][:128],
                base_url=options["url"],
                provider=options["provider"],
                username=options["username"],
                token=token,
                ssh_key=read(options["ssh_key_file"]),
                ssh_known_hosts=read(options["known_hosts_file"]),
                webhook_secret=options["webhook_secret"],
            )
        except AppwriteError as error:
            raise CommandError(error.message) from None
        self.stdout.write(installation.uid)
