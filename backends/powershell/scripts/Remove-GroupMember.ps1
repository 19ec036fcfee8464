# Idempotent: removing a computer that is not in the group is a no-op.
param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    $group = [string]$p.group
    $member = [string]$p.member
    $present = @(Get-ADGroupMember -Identity $group -Server $p.dc | Where-Object { $_.SamAccountName -eq $member })
    if ($present.Count -gt 0) { Remove-ADGroupMember -Identity $group -Members $member -Server $p.dc -Confirm:$false }
    $true
}
