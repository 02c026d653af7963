"""P1: the OpenAPI document lists every operation, each named, summarised and tagged."""

import json

EXPECTED_OPERATIONS = {
    ("get", "/api/v1/me"): "get_me",
    ("get", "/api/v1/units"): "list_units",
    ("get", "/api/v1/units/{unit_id}"): "get_unit",
    ("post", "/api/v1/townships"): "create_township",
    ("patch", "/api/v1/townships/{unit_id}"): "update_township",
    ("post", "/api/v1/schools"): "create_school",
    ("patch", "/api/v1/schools/{unit_id}"): "update_school",
    ("post", "/api/v1/units/{unit_id}/close"): "close_unit",
    ("post", "/api/v1/units/{unit_id}/reopen"): "reopen_unit",
    ("get", "/api/v1/users"): "list_users",
    ("get", "/api/v1/users/{user_id}"): "get_user",
    ("post", "/api/v1/users"): "create_user",
    ("patch", "/api/v1/users/{user_id}"): "update_user",
    ("post", "/api/v1/users/{user_id}/designate"): "designate_user",
    ("post", "/api/v1/users/{user_id}/reset-password"): "reset_user_password",
    ("get", "/api/v1/school-years"): "list_school_years",
    ("put", "/api/v1/school-years/{start_year}"): "save_school_year",
    ("get", "/api/v1/calendar-days"): "list_calendar_days",
    ("post", "/api/v1/calendar-days"): "set_calendar_day",
    ("delete", "/api/v1/calendar-days/{day_id}"): "remove_calendar_day",
    ("get", "/api/v1/deadlines"): "list_deadlines",
    ("get", "/api/v1/next-session"): "get_next_session",
    ("get", "/api/v1/audit/events"): "list_audit_events",
    ("post", "/api/v1/audit/verify"): "verify_audit_chain",
    ("get", "/api/v1/jobs"): "list_jobs",
    ("get", "/api/v1/jobs/{job_id}"): "get_job",
    ("get", "/api/v1/jobs/{job_id}/result"): "download_job_result",
    ("post", "/api/v1/tokens"): "create_token",
    ("get", "/api/v1/tokens"): "list_tokens",
    ("delete", "/api/v1/tokens/{token_id}"): "revoke_token",
    # Students (issue 3)
    ("get", "/api/v1/students"): "list_students",
    ("post", "/api/v1/students"): "register_student",
    ("get", "/api/v1/students/{student_id}"): "get_student",
    ("patch", "/api/v1/students/{student_id}"): "update_student",
    ("post", "/api/v1/students/{student_id}/reveal"): "reveal_student",
    ("put", "/api/v1/students/{student_id}/photo"): "set_photo",
    ("get", "/api/v1/students/{student_id}/photo"): "get_photo",
    ("put", "/api/v1/records/{record_id}/placement"): "set_placement",
    ("post", "/api/v1/records/{record_id}/lock"): "lock_record",
    ("post", "/api/v1/records/{record_id}/reopen"): "reopen_record",
    ("post", "/api/v1/records/{record_id}/numbers"): "assign_numbers",
    ("get", "/api/v1/duplicates"): "list_duplicates",
    ("post", "/api/v1/duplicates/{candidate_id}/decision"): "decide_duplicate",
    ("post", "/api/v1/duplicates/scan"): "scan_duplicates",
    ("get", "/api/v1/items"): "list_items",
    ("get", "/api/v1/codes/{table}"): "list_codes",
    ("get", "/api/v1/students/template"): "get_student_template",
    ("post", "/api/v1/students/import"): "import_students",
    ("get", "/api/v1/students/export"): "export_roster",
    ("get", "/api/v1/number-templates"): "get_number_templates",
    ("put", "/api/v1/number-templates"): "set_number_templates",
    # Changes (issue 4)
    ("get", "/api/v1/changes"): "list_changes",
    ("post", "/api/v1/changes"): "create_change",
    ("get", "/api/v1/changes/{request_id}"): "get_change",
    ("post", "/api/v1/changes/{request_id}/evidence"): "add_evidence",
    ("post", "/api/v1/evidence/{evidence_id}/check"): "check_evidence",
    ("get", "/api/v1/evidence/{evidence_id}/file"): "get_evidence_file",
    ("post", "/api/v1/changes/{request_id}/documents-checked"): "pass_documents",
    ("get", "/api/v1/changes/{request_id}/report.pdf"): "get_change_report",
    ("post", "/api/v1/changes/{request_id}/sign"): "sign_change",
    ("put", "/api/v1/changes/{request_id}/signed-scan"): "set_signed_scan",
    ("post", "/api/v1/changes/{request_id}/central-review"): "central_review",
    ("post", "/api/v1/changes/{request_id}/receiving"): "confirm_receiving",
    ("post", "/api/v1/changes/{request_id}/submit"): "submit_change",
    ("post", "/api/v1/changes/{request_id}/decision"): "decide_change",
    ("post", "/api/v1/changes/decisions"): "approve_changes",
    ("post", "/api/v1/changes/{request_id}/record"): "record_change",
    ("post", "/api/v1/changes/{request_id}/withdraw"): "withdraw_change",
    ("get", "/api/v1/sessions"): "list_sessions",
    ("get", "/api/v1/sessions/{session_id}"): "get_session",
    ("post", "/api/v1/sessions/open"): "open_session",
    ("post", "/api/v1/sessions/{session_id}/close"): "close_session",
    ("post", "/api/v1/sessions/{session_id}/sign-off"): "sign_off_session",
    ("get", "/api/v1/plans"): "list_plans",
    ("post", "/api/v1/plans"): "file_plan",
    # Intake (issue 5)
    ("get", "/api/v1/intake"): "get_intake",
    ("get", "/api/v1/intake/entries"): "list_intake_entries",
    ("post", "/api/v1/intake/entries"): "enter_pupil",
    ("post", "/api/v1/intake/entries/send-for-review"): "send_for_review",
    ("post", "/api/v1/intake/entries/review"): "review_entries",
    ("post", "/api/v1/intake/entries/number"): "number_entries",
    ("post", "/api/v1/intake/entries/submit"): "submit_entries",
    ("post", "/api/v1/intake/entries/forward"): "forward_entries",
    ("post", "/api/v1/intake/entries/accept"): "accept_entries",
    ("post", "/api/v1/intake/entries/return"): "return_entries",
    ("post", "/api/v1/intake/entries/{entry_id}/exception"): "record_exception",
    ("put", "/api/v1/intake/entries/{entry_id}/photo"): "collect_photo",
    ("get", "/api/v1/intake/photo-sheet/{school_id}"): "get_photo_sheet",
    ("post", "/api/v1/intake/junior"): "collect_junior",
    ("get", "/api/v1/intake/junior"): "list_junior_candidates",
    ("post", "/api/v1/intake/junior/convert"): "convert_junior",
    ("get", "/api/v1/year-end/preview"): "preview_year_end",
    ("post", "/api/v1/year-end"): "run_year_end",
    ("get", "/api/v1/catchments/{school_id}"): "get_catchment",
    ("put", "/api/v1/catchments/{school_id}"): "set_catchment",
    (
        "get",
        "/api/v1/changes/{request_id}/name-change-application.pdf",
    ): "get_name_change_application",
    ("get", "/api/v1/changes/{request_id}/transfer-certificate.pdf"): "get_transfer_certificate",
    ("get", "/api/v1/national-export"): "export_national",
    ("post", "/api/v1/offline-seeds"): "export_student_package",
    ("post", "/api/v1/package-changes/{change_id}/check"): "check_package_change",
    ("post", "/api/v1/package-imports"): "import_package",
    ("post", "/api/v1/package-imports/preview"): "preview_package_import",
    ("get", "/api/v1/packages"): "list_packages",
    ("post", "/api/v1/packages/export"): "export_change_package",
    ("get", "/api/v1/packages/{package_id}"): "get_package",
    ("get", "/api/v1/packages/{package_id}/file"): "get_package_file",
    ("get", "/api/v1/packages/{package_id}/reconciliation"): "get_reconciliation",
    ("get", "/api/v1/packages/{package_id}/reconciliation.xlsx"): "get_reconciliation_xlsx",
    ("post", "/api/v1/print/photo-sheets"): "print_photo_sheets",
    ("post", "/api/v1/print/record-cards"): "print_record_cards",
    ("post", "/api/v1/print/rosters"): "print_rosters",
    ("get", "/api/v1/rosters/class.pdf"): "get_class_roster",
    ("get", "/api/v1/rounds"): "list_rounds",
    ("post", "/api/v1/rounds"): "announce_round",
    ("get", "/api/v1/rounds/{round_id}"): "get_round",
    ("patch", "/api/v1/rounds/{round_id}"): "change_round_due_date",
    ("delete", "/api/v1/rounds/{round_id}"): "cancel_round",
    ("post", "/api/v1/rounds/{round_id}/report"): "report_in_round",
    ("get", "/api/v1/signing-keys"): "list_signing_keys",
    ("post", "/api/v1/signing-keys"): "generate_signing_key",
    ("post", "/api/v1/signing-keys/public-files"): "upload_public_key",
    ("post", "/api/v1/signing-keys/replace"): "replace_signing_key",
    ("get", "/api/v1/signing-keys/{key_id}"): "get_signing_key",
    ("get", "/api/v1/signing-keys/{key_id}/public"): "get_signing_key_public",
    ("post", "/api/v1/signing-keys/{key_id}/register"): "register_signing_key",
    ("post", "/api/v1/signing-keys/{key_id}/revoke"): "revoke_signing_key",
    ("get", "/api/v1/stats/changes"): "get_change_statistics",
    ("get", "/api/v1/stats/dropout-watch"): "get_dropout_watch",
    ("get", "/api/v1/stats/intake"): "get_intake_progress",
    ("get", "/api/v1/stats/students"): "get_student_statistics",
    ("get", "/api/v1/stats/tables/{key}/xlsx"): "export_statistics_table",
    ("get", "/api/v1/stats/units-overview"): "get_units_overview",
    ("get", "/api/v1/students/{student_id}/certificate.pdf"): "get_certificate_of_enrolment",
    ("get", "/api/v1/students/{student_id}/record-card.pdf"): "get_record_card",
}


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def fetch_document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_document_is_valid_json_listing_every_operation(client, db):
    document = fetch_document(client)
    assert document["openapi"].startswith("3.")
    found = {(method, path): op["operationId"] for method, path, op in operations(document)}
    assert found == EXPECTED_OPERATIONS


def test_every_operation_has_a_unique_id_a_summary_tags_and_responses(client, db):
    document = fetch_document(client)
    ids = [op["operationId"] for _method, _path, op in operations(document)]
    assert len(ids) == len(set(ids))
    for method, path, operation in operations(document):
        assert operation.get("summary"), (method, path)
        assert operation.get("tags"), (method, path)
        assert any(code.startswith("2") for code in operation["responses"]), (method, path)
        assert "401" in operation["responses"], (method, path)


def test_every_operation_accepts_the_session_or_a_bearer_token(client, db):
    document = fetch_document(client)
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["TokenAuth"].items()
    assert schemes["SessionAuth"]["in"] == "cookie"
    for method, path, operation in operations(document):
        names = {name for requirement in operation["security"] for name in requirement}
        if (method, path) == ("post", "/api/v1/tokens"):
            assert names == {"SessionAuth"}
        else:
            assert names == {"TokenAuth", "SessionAuth"}, (method, path)


def test_no_output_schema_publishes_a_password_or_a_token_hash(client, db):
    document = fetch_document(client)
    for name, schema in document["components"]["schemas"].items():
        if name.endswith("In") or name.endswith("Patch"):
            continue
        properties = set(schema.get("properties", {}))
        assert not properties & {"password", "token_hash"}, name
