"""OSS (Alibaba Cloud Object Storage) adapters."""

from infrastructure.oss.uploads import OssUploadStorage

__all__ = ["OssUploadStorage"]
