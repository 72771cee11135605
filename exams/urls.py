from django.urls import path

from exams.views import (analysis, answer_groups, assessments, audit_log, common, grades, grading_by_question,
                         records, regrade_requests, staff, student)

app_name = "exams"

# One question of an assessment on the grading pages (grading by question, rubric items, answer groups).
QUESTION = "manage/assessments/<int:assessment_id>/grading/questions/<int:template_id>/"

urlpatterns = [
    path("", common.dashboard, name="dashboard"),
    path("pygments.css", common.pygments_stylesheet, name="pygments_css"),
    # students
    path("assessments/<int:assessment_id>/", student.assessment_start_page, name="assessment"),
    path("assessments/<int:assessment_id>/start", student.start_attempt, name="start_attempt"),
    path("attempts/<int:attempt_id>/", student.attempt_page, name="attempt"),
    path("attempts/<int:attempt_id>/save", student.autosave, name="autosave"),
    path("attempts/<int:attempt_id>/state", student.attempt_state, name="attempt_state"),
    path("attempts/<int:attempt_id>/submit", student.submit_attempt, name="submit_attempt"),
    # instructors and TAs
    path("courses/<int:course_id>/", staff.course_page, name="course"),
    path("courses/<int:course_id>/gradebook/", staff.gradebook_page, name="gradebook"),
    path("courses/<int:course_id>/gradebook.csv", staff.gradebook_csv, name="gradebook_csv"),
    path("courses/<int:course_id>/gradebook/export/<slug:layout>", grades.lms_export, name="lms_export"),
    path("courses/<int:course_id>/grades/", grades.my_grades, name="my_grades"),
    path("manage/attempts/<int:attempt_id>/", grades.staff_attempt, name="staff_attempt"),
    path("manage/assessments/<int:assessment_id>/", staff.assessment_page, name="manage_assessment"),
    path("manage/assessments/<int:assessment_id>/publish", staff.publish_assessment, name="publish"),
    path("manage/assessments/<int:assessment_id>/progress.json", staff.publish_progress, name="publish_progress"),
    path("manage/assessments/<int:assessment_id>/responses.csv", staff.responses_csv, name="responses_csv"),
    path("manage/assessments/<int:assessment_id>/grading/", staff.grading_queue, name="grading_queue"),
    path("manage/responses/<int:response_id>/grade", staff.grade_response_page, name="grade_response"),
    path(QUESTION, grading_by_question.grade_by_question, name="grade_by_question"),
    path(QUESTION + "split", grading_by_question.split_grading, name="split_grading"),
    path(QUESTION + "items", grading_by_question.add_rubric_item, name="add_rubric_item"),
    path("manage/rubric-items/<int:item_id>/", grading_by_question.edit_rubric_item, name="edit_rubric_item"),
    path(QUESTION + "groups/", answer_groups.groups_page, name="answer_groups"),
    path(QUESTION + "groups/suggest", answer_groups.start_grouping, name="start_grouping"),
    path(QUESTION + "groups/status.json", answer_groups.grouping_status, name="grouping_status"),
    path("manage/answer-groups/<int:group_id>/apply", answer_groups.apply_to_group, name="apply_to_group"),
    path("manage/responses/<int:response_id>/rubric", grading_by_question.apply_rubric, name="apply_rubric"),
    path("attempts/<int:attempt_id>/regrade-request", regrade_requests.request_regrade, name="request_regrade"),
    path("manage/assessments/<int:assessment_id>/regrade-requests/", regrade_requests.regrade_queue,
         name="regrade_queue"),
    path("manage/regrade-requests/<int:request_id>/answer", regrade_requests.answer_regrade, name="answer_regrade"),
    path("manage/responses/<int:response_id>/retry", staff.retry_grading, name="retry_grading"),
    path("manage/attempts/<int:attempt_id>/force-submit", staff.force_submit_attempt, name="force_submit"),
    path("manage/assessments/<int:assessment_id>/regrade", staff.regrade_template, name="regrade"),
    path("manage/assessments/<int:assessment_id>/overrides", records.set_override, name="set_override"),
    path("manage/assessments/<int:assessment_id>/excuse", records.excuse_student, name="excuse"),
    path("manage/assessments/<int:assessment_id>/unexcuse", records.unexcuse_student, name="unexcuse"),
    path("courses/<int:course_id>/manual/<int:item_id>/", records.manual_item_page, name="manual_item"),
    path("courses/<int:course_id>/roster", records.upload_roster, name="upload_roster"),
    path("courses/<int:course_id>/roster/confirm", records.confirm_roster, name="confirm_roster"),
    # building assessments and releasing results (instructors)
    path("courses/<int:course_id>/assessments/new", assessments.new_assessment, name="new_assessment"),
    path("courses/<int:course_id>/blueprint-pools", assessments.blueprint_pools, name="blueprint_pools"),
    path("courses/<int:course_id>/templates/<slug:slug>/preview", assessments.template_preview,
         name="template_preview"),
    path("manage/assessments/<int:assessment_id>/edit", assessments.edit_assessment, name="edit_assessment"),
    path("manage/assessments/<int:assessment_id>/duplicate", assessments.duplicate_assessment,
         name="duplicate_assessment"),
    path("manage/assessments/<int:assessment_id>/delete", assessments.delete_assessment, name="delete_assessment"),
    path("manage/assessments/<int:assessment_id>/releases", assessments.release_controls, name="release_controls"),
    path("manage/assessments/<int:assessment_id>/analysis/", analysis.assessment_analysis_page, name="assessment_analysis"),
    path("manage/assessments/<int:assessment_id>/analysis/<slug:table>.csv", analysis.assessment_analysis_csv,
         name="assessment_analysis_csv"),
    path("manage/templates/<int:template_id>/analysis/", analysis.template_analysis_page, name="template_analysis"),
    path("manage/templates/<int:template_id>/analysis/<slug:table>.csv", analysis.template_analysis_csv,
         name="template_analysis_csv"),
    path("courses/<int:course_id>/audit/", audit_log.audit_page, name="audit_log"),
    path("courses/<int:course_id>/audit.csv", audit_log.audit_csv, name="audit_csv"),
]
