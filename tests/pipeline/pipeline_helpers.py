"""What the pipeline tests read back from a run's ML Metadata."""
import os

from ml_metadata.proto import metadata_store_pb2

from pipeline.summary import open_store


def executions(root):
    """{component: [states]} of every execution in the run's ML Metadata, oldest first."""
    store = open_store(os.path.join(root, "metadata.sqlite"))
    types = {t.id: t.name.split(".")[-1] for t in store.get_execution_types()}
    result = {}
    for execution in sorted(store.get_executions(), key=lambda e: e.id):
        state = metadata_store_pb2.Execution.State.Name(execution.last_known_state)
        result.setdefault(types[execution.type_id], []).append(state)
    return result
