"""The job queue on Alibaba Cloud MNS, for running the webhook and the worker apart.

The SDK (aliyun-mns-sdk, import name ``mns``) is blocking and not thread-safe; this
package keeps it on its own threads, one client per thread, and speaks ``JobQueue``.
"""

from infrastructure.mns.queue import MnsJobQueue

__all__ = ["MnsJobQueue"]
