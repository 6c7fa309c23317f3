from .deployment import Deployment
from .execution import Execution
from .function import Function
from .installation import Installation
from .limits import EventChain, RateWindow
from .node import Node
from .platform import Platform
from .project import ApiKey, Project, Team
from .rule import Rule
from .user import ProjectUser, Session
from .variable import Variable
from .versions import ConfigVersion

__all__ = [
    "ApiKey",
    "ConfigVersion",
    "Deployment",
    "EventChain",
    "Execution",
    "Function",
    "Installation",
    "Node",
    "Platform",
    "Project",
    "ProjectUser",
    "RateWindow",
    "Rule",
    "Session",
    "Team",
    "Variable",
]
