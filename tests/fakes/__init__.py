"""Local fakes of the cloud wire protocols, so adapters are tested with the real SDKs."""
