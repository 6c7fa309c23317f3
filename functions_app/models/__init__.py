from .deployment import Deployment
from .execution import Execution
from .function import Function
from .project import ApiKey, Project, Team
from .variable import Variable

__all__ = ["ApiKey", "Deployment", "Execution", "Function", "Project", "Team", "Variable"]
